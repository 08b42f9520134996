"""Error pages: a full page for browsers, a short fragment for htmx."""

from __future__ import annotations

from flask import Flask
from flask import g
from flask import render_template
from flask.globals import request_ctx
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import ProgrammingError
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import InternalServerError

from webapp.core.database import MIGRATE_HINT
from webapp.core.database import schema_is_missing
from webapp.core.extensions import db
from webapp.core.extensions import login_manager
from webapp.core.htmx import is_htmx
from webapp.core.throttling import refusal_message

TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
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


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int]:
        if isinstance(error, InternalServerError):
            return server_error(error)
        if isinstance(error, RateLimitExceeded):
            return render_error(429, refusal_message(error.description or ""))
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

    @app.errorhandler(500)
    def server_error(error: Exception) -> tuple[str, int]:
        return render_error(500, "Sorry, that failed on our side. Please try again.")
