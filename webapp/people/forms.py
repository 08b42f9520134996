"""The profile form and the profile-card switch."""

from __future__ import annotations

from wtforms import BooleanField
from wtforms import Field
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import ValidationError

from webapp.accounts.models import ABOUT_ME_MAX_LENGTH
from webapp.core.forms import TextForm
from webapp.core.forms import present
from webapp.core.textrules import CONTROL_CHARACTERS_MESSAGE
from webapp.core.textrules import clean_text
from webapp.core.textrules import has_control_characters
from webapp.core.textrules import invisible_character_problem


class EditProfileForm(TextForm):
    about_me = TextAreaField(
        "About me",
        validators=[present],
        # No maxlength (a browser would silently cut pasted text): the limit is said as
        # help, counted live (static/js/app.js) and checked below, after clean_text.
        render_kw={"data-char-limit": ABOUT_ME_MAX_LENGTH, "rows": 4},
    )
    submit = SubmitField("Save")

    def validate_about_me(self, field: Field) -> None:
        field.data = clean_text(field.data)
        if len(field.data) > ABOUT_ME_MAX_LENGTH:
            raise ValidationError(
                f"About me is at most {ABOUT_ME_MAX_LENGTH} characters ({len(field.data)} now)."
            )
        if has_control_characters(field.data):
            raise ValidationError(CONTROL_CHARACTERS_MESSAGE)
        problem = invisible_character_problem(field.data)
        if problem:
            raise ValidationError(problem)


class CardSettingsForm(TextForm):
    """Settings > Profile cards. An unticked box is not sent at all, so a post without the
    field turns the cards off."""

    show_hovercards = BooleanField("Show profile cards when I hover a name")
    submit = SubmitField("Save")
