"""Recording when a user was last seen: at most once a minute, and only for pages.

Card fetches, other htmx fragments and static files never write: hovering over names must
not turn every read into a database write.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from flask import request
from flask_login import current_user
from sqlalchemy import update
from sqlalchemy.exc import SQLAlchemyError

from webapp.accounts.models import User
from webapp.accounts.sessions import touch_statement
from webapp.core.extensions import db
from webapp.core.htmx import is_htmx
from webapp.core.timeutil import utcnow

LAST_SEEN_RESOLUTION = timedelta(minutes=1)
QUIET_ENDPOINTS = frozenset({"static", "main.healthz", "main.avatar", "users.popup"})


def init_app(app: Flask) -> None:
    app.before_request(record_last_seen)


def record_last_seen() -> None:
    # Only page views (GET). A POST already holds SQLite's write lock in its own
    # transaction, and it is followed by a redirect to a page that records the visit.
    if request.method != "GET" or is_htmx():
        return
    if request.endpoint is None or request.endpoint in QUIET_ENDPOINTS:
        return
    if not current_user.is_authenticated:
        return
    now = utcnow()
    statements = [touch_statement(current_user.current_session, now)]
    if now - current_user.last_seen >= LAST_SEEN_RESOLUTION:
        statements.append(
            update(User)
            .where(User.id == current_user.id, User.last_seen < now - LAST_SEEN_RESOLUTION)
            .values(last_seen=now)
        )
    statements = [statement for statement in statements if statement is not None]
    if not statements:
        return
    try:
        # Its own short transaction, guarded in SQL too, so two workers serving the same
        # user in the same minute write once between them. The session's last use is
        # recorded here too: the same visits, the same once-a-minute rule.
        with db.engine.begin() as connection:
            for statement in statements:
                connection.execute(statement)
    except SQLAlchemyError:
        # Last seen is a nicety: a busy database must not fail the page for it.
        pass
