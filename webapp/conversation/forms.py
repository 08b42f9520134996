"""The comment form."""

from __future__ import annotations

from wtforms import Field
from wtforms import HiddenField
from wtforms import SubmitField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import ValidationError

from webapp.conversation.models import BODY_MAX_LENGTH
from webapp.conversation.posts import body_problem
from webapp.core.forms import TextForm
from webapp.core.textrules import clean_text


def body_field(label: str, rows: int) -> TextAreaField:
    """A comment's text field, alike in every form that writes one. No maxlength: a
    browser would silently cut pasted text there. The limit is said as help, counted live
    (static/js/app.js) and checked by validate_body."""
    return TextAreaField(
        label,
        validators=[DataRequired(message="Write something first.")],
        render_kw={"data-char-limit": BODY_MAX_LENGTH, "rows": rows},
    )


class PostForm(TextForm):
    body = body_field("Say something", rows=3)
    submit = SubmitField("Post")

    def validate_body(self, field: Field) -> None:
        field.data = clean_text(field.data)
        problem = body_problem(field.data)
        if problem:
            raise ValidationError(problem)


class EditForm(PostForm):
    """Editing one's comment: the same rules as posting it."""

    body = body_field("Edit your comment", rows=3)
    # The page to go back to without JavaScript (checked again when used: see back_path).
    next = HiddenField()
    submit = SubmitField("Save")


class ReplyForm(PostForm):
    body = body_field("Your reply", rows=2)
    submit = SubmitField("Reply")
