"""Error pages: a full page for browsers, a short fragment for htmx."""

from __future__ import annotations

from flask import Flask
from flask import Response
from flask import g
from flask import render_template
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.orm.exc import ObjectDeletedError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError
from werkzeug.exceptions import TooManyRequests

from webapp.core.database import MIGRATE_HINT
from webapp.core.database import schema_is_missing
from webapp.core.extensions import db
from webapp.core.extensions import login_manager
from webapp.core.htmx import is_htmx
from webapp.core.throttling import refusal_message
from webapp.core.throttling import retry_after_seconds

TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too much data",
    422: "Unprocessable",
    429: "Too many requests",
    500: "Something went wrong",
    503: "Service unavailable",
}


def render_error(status: int, message: str, degraded: bool = False) -> tuple[str, int]:
    """`degraded`: the database is failing, so the page must not ask it who is logged in."""
    title = TITLES.get(status, "Error")
    if degraded:
        # Flask-Login's template context loads the user eagerly; treat the visitor as
        # anonymous for this page instead of asking the failing database again.
        g._login_user = login_manager.anonymous_user()
    if request_ctx.url_adapter is None:
        # No URL map for this request (its Host is not trusted): a page of links cannot
        # be built, and the client is not one of our visitors anyway.
        return str(escape(f"{status} {title}: {message}")), status
    template = "errors/_fragment.html" if is_htmx() else "errors/error.html"
    page = render_template(template, status=status, title=title, message=message, degraded=degraded)
    return page, status


def too_many_requests(error: TooManyRequests) -> tuple[str, int, dict[str, str]]:
    """Flask-Limiter's refusals and the app's own (Throttled): the page says when to retry,
    and so does Retry-After."""
    seconds = retry_after_seconds(error)
    page, status = render_error(429, refusal_message(error.description or "", seconds))
    return page, status, {"Retry-After": str(seconds)} if seconds else {}


def logged_in_user_id() -> int | None:
    """The current user's id. The loader's user is a snapshot of plain columns (not an ORM
    entity that would be reloaded), so reading it cannot raise for a deleted row."""
    user = g.get("_login_user")
    if user is None or not user.is_authenticated:
        return None
    return user.id


def account_exists(user_id: int) -> bool:
    # Core cannot import the models' feature code; the table is enough.
    user_table = db.metadata.tables["user"]
    return db.session.scalar(select(user_table.c.id).where(user_table.c.id == user_id)) is not None


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | tuple[str, int, dict[str, str]]:
        if isinstance(error, InternalServerError):
            return server_error(error)
        if isinstance(error, TooManyRequests):
            return too_many_requests(error)
        return render_error(error.code or 500, error.description or "")

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        return render_error(
            400, "The form was out of date or incomplete. Reload the page and try again."
        )

    @app.errorhandler(OperationalError)
    @app.errorhandler(ProgrammingError)
    def database_error(error: Exception) -> tuple[str, int]:
        db.session.rollback()
        if schema_is_missing():
            app.logger.error(MIGRATE_HINT)
            return render_error(503, MIGRATE_HINT, degraded=True)
        app.logger.exception("Database error")
        return render_error(
            503, "The database is not answering. Please try again shortly.", degraded=True
        )

    @app.errorhandler(IntegrityError)
    @app.errorhandler(ObjectDeletedError)
    def changed_underneath(error: Exception) -> tuple[str, int] | Response:
        """A write that lost a race with another request: most often the account itself was
        deleted (in another tab) while this request ran. Nothing was stored."""
        db.session.rollback()
        user_id = logged_in_user_id()
        if user_id is not None and not account_exists(user_id):
            g._login_user = login_manager.anonymous_user()
            return login_manager.unauthorized()
        app.logger.warning("Write refused by the database: %s", type(error).__name__)
        return render_error(
            409, "That changed while you were working on it. Reload the page and try again."
        )

    @app.errorhandler(500)
    def server_error(error: Exception) -> tuple[str, int]:
        return render_error(500, "Sorry, that failed on our side. Please try again.")
