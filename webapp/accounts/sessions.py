"""Who is logged in: Flask-Login's user loader and what anonymous visitors get."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from flask import Response
from flask import flash
from flask import make_response
from flask import redirect
from flask import request
from flask_login import login_url
from sqlalchemy import update

from webapp.core.extensions import db
from webapp.core.extensions import login_manager
from webapp.core.htmx import is_htmx
from webapp.core.redirects import is_safe_local_path
from webapp.models import User

LOGIN_MESSAGE = "Please log in to see this page."


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"


@login_manager.user_loader
def load_user(login_id: str) -> User | None:
    """Load the user named by a session or remember-me cookie.

    The id is `<user id>:<session version>`; a cookie minted before the version was bumped
    (at logout) names an old version and authenticates nobody.
    """
    user_id, _, version = login_id.partition(":")
    if not (user_id.isdigit() and version.isdigit()):
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return user


@login_manager.unauthorized_handler
def unauthorized() -> Response:
    target = login_url("auth.login", next_url=page_to_return_to())
    if is_htmx():
        # A redirect would make htmx swap the login page into a popover or a list.
        response = make_response("Please log in.", 401)
        response.headers["HX-Redirect"] = target
        return response
    flash(LOGIN_MESSAGE, "info")
    return redirect(target)


def page_to_return_to() -> str | None:
    """The page to come back to after logging in: for an htmx request that is the page the
    user was looking at, not the fragment it asked for."""
    if not is_htmx():
        return request.full_path.rstrip("?")
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    path = current.path + (f"?{current.query}" if current.query else "")
    return path if is_safe_local_path(path) else None


def revoke_sessions(user: User) -> None:
    """Make every existing session and remember-me cookie of this user invalid."""
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(session_version=User.session_version + 1)
        .execution_options(synchronize_session=False)
    )
