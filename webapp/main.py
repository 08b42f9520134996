"""Blueprint: the health check and avatars."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.accounts.identity import canonical_username
from webapp.accounts.models import USERNAME_MAX_LENGTH
from webapp.core.extensions import db
from webapp.people.avatars import avatar_svg

bp = Blueprint("main", __name__)


@bp.route("/avatar/<name>.svg")
def avatar(name: str) -> Response:
    """Drawn from the name alone (no database), so it can be cached for a year."""
    response = Response(avatar_svg(canonical_username(name)[:USERNAME_MAX_LENGTH]))
    response.mimetype = "image/svg+xml"
    response.cache_control.public = True
    response.cache_control.max_age = 365 * 24 * 3600
    response.cache_control.immutable = True
    return response


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    """For load balancers and orchestrators: the process answers and the database too."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200
