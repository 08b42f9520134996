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
from webapp.accounts.models import EMAIL_MAX_LENGTH
from webapp.accounts.models import USERNAME_MAX_LENGTH
from webapp.accounts.passwords import PASSWORD_MAX_LENGTH
from webapp.accounts.passwords import password_problem
from webapp.core.forms import TextForm


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
        check_email(field)

    def validate_password(self, field: Field) -> None:
        check_new_password(field)


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


def new_password_field(label: str = "New password", field_id: str | None = None) -> PasswordField:
    return PasswordField(
        label,
        id=field_id,
        validators=[DataRequired()],
        render_kw={"autocomplete": "new-password", "maxlength": PASSWORD_MAX_LENGTH},
    )


def confirm_field(of: str, field_id: str | None = None) -> PasswordField:
    return PasswordField(
        "Confirm new password",
        id=field_id,
        validators=[DataRequired(), EqualTo(of, message="The passwords do not match.")],
        render_kw={"autocomplete": "new-password"},
    )


def current_password_field(field_id: str | None = None) -> PasswordField:
    """`field_id`: the settings page has three of these, and each label must find its own."""
    return PasswordField(
        "Current password",
        id=field_id,
        validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


def email_field(label: str, field_id: str | None = None) -> StringField:
    return StringField(
        label,
        id=field_id,
        validators=[DataRequired(), Length(max=EMAIL_MAX_LENGTH)],
        render_kw={"autocomplete": "email", "type": "email"},
    )


def check_email(field: Field) -> None:
    try:
        normalise_email(field.data)
    except InvalidEmail as error:
        raise ValidationError(str(error)) from None


def check_new_password(field: Field) -> None:
    problem = password_problem(field.data)
    if problem:
        raise ValidationError(problem)


class ResetRequestForm(TextForm):
    email = email_field("Email")
    submit = SubmitField("Send me a link")


class NewPasswordForm(TextForm):
    """The new password, on the page a reset link opens."""

    password = new_password_field()
    confirm_password = confirm_field("password")
    submit = SubmitField("Set my new password")

    def validate_password(self, field: Field) -> None:
        check_new_password(field)


# The settings forms share one page, with each other and with sections whose ids are
# "password" and "email": their fields get ids of their own, or a label would point at
# another section's input (or at a section) and its own input would have no name.
class ChangePasswordForm(TextForm):
    current_password = current_password_field("password-current_password")
    password = new_password_field(field_id="password-new_password")
    confirm_password = confirm_field("password", "password-confirm_password")
    submit = SubmitField("Change password")

    def validate_password(self, field: Field) -> None:
        check_new_password(field)


class ChangeEmailForm(TextForm):
    email = email_field("New e-mail address", "email-new_email")
    current_password = current_password_field("email-current_password")
    submit = SubmitField("Send a confirmation link")

    def validate_email(self, field: Field) -> None:
        check_email(field)


class DeleteAccountForm(TextForm):
    current_password = current_password_field("delete-current_password")
    username = StringField(
        "Type your username to confirm",
        validators=[DataRequired(), Length(max=USERNAME_MAX_LENGTH * 4)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    submit = SubmitField("Delete my account")


class ActionForm(TextForm):
    """A button that changes something: only the CSRF token."""
