"""`flask` commands and the shell context."""

from __future__ import annotations

from typing import Any

from flask import Flask

from webapp.extensions import db
from webapp.models import Post
from webapp.models import User


def init_app(app: Flask) -> None:
    @app.shell_context_processor
    def shell_context() -> dict[str, Any]:
        return {"db": db, "User": User, "Post": Post}
