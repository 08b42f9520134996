"""Extensions, created unbound here and attached to the app in `create_app`."""

from __future__ import annotations

from flask import Response
from flask import request
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Named constraints, so Alembic can drop and alter them on every database (SQLite's batch
# mode needs a name to recreate a table without one constraint).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RequestLoginManager(LoginManager):
    """Flask-Login with one source of the current user: its request loader.

    Sessions here are server-side records named by a cookie of our own (see
    webapp/accounts/sessions.py). Flask-Login's other sources (a user id in the signed session,
    its remember-me cookie) and its session-protection hashing are not used, so they are
    skipped rather than consulted on every request: a stale `remember_token` from an older
    release would otherwise shadow the loader.
    """

    def _load_user(self) -> None:
        loader = self._request_callback
        user = loader(request) if loader is not None else None
        self._update_request_context_with_user(user)

    def _update_remember_cookie(self, response: Response) -> Response:
        # Flask-Login's remember-me cookie is not used (see above), so its after-request
        # hook has nothing to do; it would read Flask's session on every response, and
        # with it decode the session cookie that most requests never need
        # (webapp/core/cookie_session.py).
        return response


db = SQLAlchemy(model_class=Base)
login_manager = RequestLoginManager()
csrf = CSRFProtect()
