"""WTForms classes. Rules that need the database (a name already taken) live in accounts.py."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from wtforms import BooleanField
from wtforms import Field
from wtforms import PasswordField
from wtforms import StringField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length
from wtforms.validators import StopValidation
from wtforms.validators import ValidationError

from webapp.identity import InvalidEmail
from webapp.identity import normalise_email
from webapp.identity import username_problem
from webapp.models import ABOUT_ME_MAX_LENGTH
from webapp.models import BODY_MAX_LENGTH
from webapp.models import EMAIL_MAX_LENGTH
from webapp.models import USERNAME_MAX_LENGTH
from webapp.passwords import PASSWORD_MAX_LENGTH
from webapp.passwords import password_problem
from webapp.posts import body_problem
from webapp.textrules import CONTROL_CHARACTERS_MESSAGE
from webapp.textrules import clean_text
from webapp.textrules import has_control_characters

SUBMIT_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class TextForm(FlaskForm):
    """A form of text fields, read from the submitted form fields only.

    Flask-WTF would also take a JSON body or uploaded files as field data, handing an int
    or a file to validators written for text. Here those are simply missing fields.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not args and "formdata" not in kwargs and request.method in SUBMIT_METHODS:
            kwargs["formdata"] = request.form
        super().__init__(*args, **kwargs)


def present(form: FlaskForm, field: Field) -> None:
    """The field was sent, even if empty: a request that leaves it out changes nothing."""
    if not field.raw_data:
        raise StopValidation("This field is missing from the form.")


class RegistrationForm(TextForm):
    username = StringField(
        "Username",
        validators=[DataRequired()],
        render_kw={"autocomplete": "username", "maxlength": USERNAME_MAX_LENGTH},
    )
    email = StringField(
        "Email",
        validators=[DataRequired(), Length(max=EMAIL_MAX_LENGTH)],
        render_kw={"autocomplete": "email", "type": "email"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired()],
        render_kw={"autocomplete": "new-password", "maxlength": PASSWORD_MAX_LENGTH},
    )
    confirm_password = PasswordField(
        "Confirm password",
        validators=[DataRequired(), EqualTo("password", message="The passwords do not match.")],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField("Register")

    def validate_username(self, field: Field) -> None:
        problem = username_problem(field.data)
        if problem:
            raise ValidationError(problem)

    def validate_email(self, field: Field) -> None:
        try:
            normalise_email(field.data)
        except InvalidEmail as error:
            raise ValidationError(str(error)) from None

    def validate_password(self, field: Field) -> None:
        problem = password_problem(field.data)
        if problem:
            raise ValidationError(problem)


class LoginForm(TextForm):
    username = StringField(
        "Username",
        validators=[DataRequired(), Length(max=USERNAME_MAX_LENGTH * 4)],
        render_kw={"autocomplete": "username"},
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    remember_me = BooleanField("Remember me")
    submit = SubmitField("Log in")


class PostForm(TextForm):
    body = TextAreaField(
        "Say something",
        validators=[DataRequired(message="Write something first.")],
        render_kw={"maxlength": BODY_MAX_LENGTH, "rows": 3},
    )
    submit = SubmitField("Post")

    def validate_body(self, field: Field) -> None:
        field.data = clean_text(field.data)
        problem = body_problem(field.data)
        if problem:
            raise ValidationError(problem)


class EditProfileForm(TextForm):
    about_me = TextAreaField(
        "About me",
        validators=[present, Length(max=ABOUT_ME_MAX_LENGTH)],
        render_kw={"maxlength": ABOUT_ME_MAX_LENGTH, "rows": 4},
    )
    submit = SubmitField("Save")

    def validate_about_me(self, field: Field) -> None:
        field.data = clean_text(field.data)
        if len(field.data) > ABOUT_ME_MAX_LENGTH:
            raise ValidationError(f"At most {ABOUT_ME_MAX_LENGTH} characters.")
        if has_control_characters(field.data):
            raise ValidationError(CONTROL_CHARACTERS_MESSAGE)
