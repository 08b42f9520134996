"""Account forms. Rules that need the database (a name already taken) live in credentials.py."""

from __future__ import annotations

from wtforms import BooleanField
from wtforms import Field
from wtforms import PasswordField
from wtforms import StringField
from wtforms import SubmitField
from wtforms.validators import DataRequired
from wtforms.validators import EqualTo
from wtforms.validators import Length
from wtforms.validators import ValidationError

from webapp.accounts.identity import InvalidEmail
from webapp.accounts.identity import normalise_email
from webapp.accounts.identity import username_problem
from webapp.accounts.passwords import PASSWORD_MAX_LENGTH
from webapp.accounts.passwords import password_problem
from webapp.core.forms import TextForm
from webapp.models import EMAIL_MAX_LENGTH
from webapp.models import USERNAME_MAX_LENGTH


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
