"""Blueprint: the home page and the health check."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import render_template
from flask_login import login_required
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.extensions import db

bp = Blueprint("main", __name__)


@bp.route("/index")
@bp.route("/")  # listed last, so url_for gives "/"
@login_required
def index() -> str:
    return render_template("main/index.html")


@bp.route("/healthz")
def healthz() -> tuple[Response, int]:
    """For load balancers and orchestrators: the process answers and the database too."""
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200
