"""Who is logged in: server-side session records, the cookie that names one, and what
anonymous visitors get.

A login creates a `user_session` row and a cookie holding its random 256-bit id; the table
stores only the id's SHA-256, so a copy of the database logs nobody in. Every request loads
the session and its user in one statement. Ending a session deletes its row: any copy of
its cookie then authenticates nobody, on every device and every app instance.

Lifetimes (OWASP Session Management): a remembered session lasts 14 days from its last use
and 90 days at most; one not remembered ends with the browser (its cookie has no expiry)
and after 24 hours without use.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask
from flask import Request
from flask import Response
from flask import current_app
from flask import flash
from flask import g
from flask import make_response
from flask import redirect
from flask import request
from flask import session
from flask_login import current_user
from flask_login import login_url
from sqlalchemy import Update
from sqlalchemy import bindparam
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update

from webapp.accounts.devices import describe_device
from webapp.accounts.models import User
from webapp.accounts.models import UserSession
from webapp.accounts.request_user import USER_COLUMNS
from webapp.accounts.request_user import CurrentSession
from webapp.accounts.request_user import CurrentUser
from webapp.core.database import request_connection
from webapp.core.extensions import db
from webapp.core.extensions import login_manager
from webapp.core.htmx import is_background
from webapp.core.htmx import is_htmx
from webapp.core.redirects import is_safe_local_path
from webapp.core.timeutil import UTCDateTime
from webapp.core.timeutil import utcnow

LOGIN_MESSAGE = "Please log in to see this page."

#: The cookie that carries the session id. Flask's own `session` cookie keeps only the CSRF
#: token and flashed messages.
AUTH_COOKIE = "hoverfeed_auth"
#: Cookies of earlier releases: deleted at login and logout so none is left behind.
LEGACY_AUTH_COOKIES = ("remember_token",)

REMEMBERED_IDLE = timedelta(days=14)
BROWSER_SESSION_IDLE = timedelta(hours=24)
MAX_AGE = timedelta(days=90)
#: Last use is written at most this often (a write per request would make every read a
#: write).
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
#: Expired rows deleted on the side at each login; `flask purge-sessions` does the rest.
PURGE_ON_LOGIN = 100


# Built once: a statement costs more to construct than to run, and this runs on every
# request. One statement for the user and their session (the card's budget is two).
LOAD_QUERY = (
    select(
        *[getattr(User, name) for name in USER_COLUMNS],
        *[getattr(UserSession, name) for name in CurrentSession._fields],
    )
    .join(User, UserSession.user_id == User.id)
    .where(
        UserSession.token_hash == bindparam("token_hash"),
        UserSession.expires_at > bindparam("now", type_=UTCDateTime()),
    )
)
SESSION_COLUMNS_START = len(USER_COLUMNS)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def expiry(created_at: datetime, last_seen_at: datetime, remembered: bool) -> datetime:
    idle = REMEMBERED_IDLE if remembered else BROWSER_SESSION_IDLE
    return min(last_seen_at + idle, created_at + MAX_AGE)


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    app.after_request(write_auth_cookie)


@login_manager.request_loader
def load_user(request: Request) -> CurrentUser | None:
    """The user whose live session the request's cookie names, or None."""
    token = request.cookies.get(AUTH_COOKIE)
    if not token:
        return None
    parameters = {"token_hash": token_hash(token), "now": utcnow()}
    row = request_connection().execute(LOAD_QUERY, parameters).first()
    if row is None:
        # Ended, expired or forged: the browser can forget it.
        g.auth_cookie = None
        return None
    return CurrentUser(*row[:SESSION_COLUMNS_START], CurrentSession(*row[SESSION_COLUMNS_START:]))


def remember_stored(**columns: object) -> None:
    """Make the rest of this request see what its view just stored in the user row (the
    request's CurrentUser is a snapshot read before)."""
    g._login_user = replace(current_user._get_current_object(), **columns)


def current_account() -> User:
    """The logged-in user's ORM entity, for a view that changes the account (one
    statement; every other request makes do with `current_user`, a CurrentUser)."""
    return db.session.get_one(User, current_user.id)


@dataclass(frozen=True)
class NewCookie:
    token: str
    remembered: bool


def start_session(user: User, remembered: bool, keep_flask_session: bool = False) -> UserSession:
    """Log `user` in on this browser: a new session row (committed by the caller) and its
    cookie on the response. The browser's previous session, if any, ends: its id must not
    stay valid behind the new one. Anything the visitor's Flask session held is dropped,
    unless `keep_flask_session` (a new id for a user who stays on the page: the CSRF token
    in that page must keep working)."""
    previous = getattr(current_user, "current_session", None)
    if previous is not None:
        db.session.execute(delete(UserSession).where(UserSession.id == previous.id))
    if not keep_flask_session:
        session.clear()
    token = secrets.token_urlsafe(32)  # 256 bits
    now = utcnow()
    user_session = UserSession(
        token_hash=token_hash(token),
        user_id=user.id,
        created_at=now,
        last_seen_at=now,
        device=describe_device(request.user_agent.string),
        remembered=remembered,
        expires_at=expiry(now, now, remembered),
    )
    db.session.add(user_session)
    db.session.flush()  # its id, for this request's CurrentSession
    purge_expired(limit=PURGE_ON_LOGIN)
    g.auth_cookie = NewCookie(token, remembered)
    # Flask-Login's current user for the rest of this request.
    g._login_user = CurrentUser.of(
        user,
        CurrentSession(
            user_session.id, user_session.created_at, user_session.last_seen_at, remembered
        ),
    )
    return user_session


def end_current_session() -> None:
    """Log out this browser only."""
    user = g.get("_login_user")
    current = getattr(user, "current_session", None)
    if current is not None:
        db.session.execute(delete(UserSession).where(UserSession.id == current.id))
    session.clear()
    g.auth_cookie = None
    g._login_user = login_manager.anonymous_user()


def end_session(user_id: int, session_id: int) -> bool:
    """End one of this user's sessions; False when there was no such session."""
    removed = db.session.execute(
        delete(UserSession)
        .where(UserSession.id == session_id, UserSession.user_id == user_id)
        .returning(UserSession.id)
    ).first()
    return removed is not None


def end_sessions(user_id: int, keep_id: int | None = None) -> int:
    """End every session of this user, except `keep_id`; the number ended."""
    statement = delete(UserSession).where(UserSession.user_id == user_id)
    if keep_id is not None:
        statement = statement.where(UserSession.id != keep_id)
    return db.session.execute(statement).rowcount or 0


def live_sessions(user_id: int) -> list[UserSession]:
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user_id, UserSession.expires_at > utcnow())
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def purge_expired(limit: int | None = None) -> int:
    """Delete expired sessions (at most `limit`); the number deleted."""
    expired = select(UserSession.id).where(UserSession.expires_at <= utcnow())
    if limit is not None:
        expired = expired.limit(limit)
    result = db.session.execute(delete(UserSession).where(UserSession.id.in_(expired)))
    return result.rowcount or 0


def touch_statement(user_session: CurrentSession, now: datetime) -> Update | None:
    """The UPDATE that records a use of this session, or None when it was recorded less
    than a minute ago. Guarded in SQL too, so two workers write once between them."""
    if now - user_session.last_seen_at < LAST_SEEN_RESOLUTION:
        return None
    return (
        update(UserSession)
        .where(
            UserSession.id == user_session.id,
            UserSession.last_seen_at < now - LAST_SEEN_RESOLUTION,
        )
        .values(
            last_seen_at=now,
            expires_at=expiry(user_session.created_at, now, user_session.remembered),
        )
    )


def write_auth_cookie(response: Response) -> Response:
    """Set or delete the session cookie when this request logged in or out."""
    if "auth_cookie" not in g:
        return response
    config = current_app.config
    change: NewCookie | None = g.auth_cookie
    options = {
        "httponly": True,
        "secure": config["SESSION_COOKIE_SECURE"],
        "samesite": config["SESSION_COOKIE_SAMESITE"],
    }
    if change is None:
        response.delete_cookie(AUTH_COOKIE, **options)
    else:
        # Remembered: the browser keeps it for the longest a session can live (the server
        # ends it earlier when unused). Not remembered: no expiry, gone with the browser.
        max_age = int(MAX_AGE.total_seconds()) if change.remembered else None
        response.set_cookie(AUTH_COOKIE, change.token, max_age=max_age, **options)
    for name in LEGACY_AUTH_COOKIES:
        if name in request.cookies:
            response.delete_cookie(name, **options)
    return response


@login_manager.unauthorized_handler
def unauthorized() -> Response:
    target = login_url("auth.login", next_url=page_to_return_to())
    if is_htmx():
        # A redirect would make htmx swap the login page into a popover or a list.
        response = make_response("Please log in.", 401)
        if not is_background():  # (a poll stops instead: see static/js/app.js)
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
