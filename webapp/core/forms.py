"""The base of every form: text fields read from the submitted form fields only."""

from __future__ import annotations

from typing import Any

from flask import request
from flask_wtf import FlaskForm
from wtforms import Field
from wtforms.validators import StopValidation

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
