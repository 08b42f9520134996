"""Server-side sessions: one statement to load, only a hash stored, lifetimes, last use,
device names, purging, and ending sessions (header, Settings, everywhere else)."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_login import current_user
from flask_login import login_required
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from werkzeug.test import TestResponse

from tests.conftest import HTMX
from tests.conftest import PASSWORD
from tests.conftest import AuthActions
from tests.conftest import QueryCounter
from tests.conftest import csrf_token
from tests.conftest import make_user
from webapp.accounts.devices import describe_device
from webapp.accounts.models import User
from webapp.accounts.models import UserSession
from webapp.accounts.sessions import AUTH_COOKIE
from webapp.accounts.sessions import MAX_AGE
from webapp.accounts.sessions import PURGE_ON_LOGIN
from webapp.core.extensions import db
from webapp.core.timeutil import utcnow

# Real User-Agent strings, as the browsers send them.
CHROMIUM_LINUX = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Ubuntu Chromium/79.0.3945.79 Chrome/79.0.3945.79 Safari/537.36"
)
HEADLESS_CHROMIUM = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/124.0.6367.60 Safari/537.36"
)
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)
EDGE_WINDOWS = CHROME_WINDOWS + " Edg/124.0.2478.80"
OPERA_WINDOWS = CHROME_WINDOWS + " OPR/109.0.0.0"
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0"
FIREFOX_ANDROID = "Mozilla/5.0 (Android 14; Mobile; rv:125.0) Gecko/125.0 Firefox/125.0"
CHROME_ANDROID = (
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Mobile Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
CHROME_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) CriOS/124.0.6367.88 Mobile/15E148 Safari/604.1"
)
SAFARI_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
)
SAFARI_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.4.1 Safari/605.1.15"
)
CHROME_OS = (
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)

SESSION_ITEM = re.compile(r'<li class="session" id="session-(\d+)">(.*?)</li>', re.DOTALL)


# Helpers ------------------------------------------------------------------------------------


def is_logged_in(client: FlaskClient) -> bool:
    """A full page GET, as a browser would: it also records the session's use."""
    return client.get("/").status_code == 200


def browser(app: Flask, user_agent: str | None = None) -> FlaskClient:
    client = app.test_client()
    if user_agent is not None:
        client.environ_base["HTTP_USER_AGENT"] = user_agent
    return client


def log_in(app: Flask, username: str = "alice", **kwargs) -> FlaskClient:
    """A new browser (with the User-Agent `user_agent`, if given), logged in as `username`."""
    client = browser(app, kwargs.pop("user_agent", None))
    assert AuthActions(client).login(username, **kwargs).status_code == 303
    return client


def session_of(app: Flask, client: FlaskClient) -> UserSession | None:
    """The session row that this browser's cookie names, if it has one."""
    cookie = client.get_cookie(AUTH_COOKIE)
    assert cookie is not None, "this browser has no session cookie"
    digest = hashlib.sha256(cookie.value.encode()).hexdigest()
    with app.app_context():
        row = db.session.scalar(select(UserSession).where(UserSession.token_hash == digest))
        if row is not None:
            db.session.expunge(row)
        return row


def session_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(UserSession))


def shift_back(app: Flask, session_id: int, delta: timedelta) -> None:
    """Move a session's times `delta` into the past: as if that much time had gone by since
    its last request. The database's own rows, changed with an UPDATE."""
    with app.app_context():
        row = db.session.get(UserSession, session_id)
        values = {
            "created_at": row.created_at - delta,
            "last_seen_at": row.last_seen_at - delta,
            "expires_at": row.expires_at - delta,
        }
        db.session.execute(update(UserSession).where(UserSession.id == session_id).values(**values))
        db.session.commit()


def post_settings(
    client: FlaskClient, path: str, htmx: bool, data: dict[str, str] | None = None
) -> TestResponse:
    token = csrf_token(client, "/settings")
    headers = {**HTMX, "X-CSRFToken": token} if htmx else {}
    return client.post(path, data={"csrf_token": token, **(data or {})}, headers=headers)


def session_items(html: str) -> dict[int, str]:
    """The sessions list of the Settings page: session id -> that item's HTML."""
    return {int(number): item for number, item in SESSION_ITEM.findall(html)}


@pytest.fixture
def alice(app: Flask) -> int:
    return make_user(app, "alice")


# Loading: one statement -------------------------------------------------------------------


@pytest.mark.usefixtures("alice")
def test_loading_the_current_user_is_one_statement(app: Flask, count_queries: QueryCounter) -> None:
    # A route that uses nothing but the current user (added before the first request).
    app.add_url_rule("/probe", "probe", login_required(lambda: f"user {current_user.username}"))
    client = log_in(app)
    count_queries.statements.clear()
    response = client.get("/probe")
    assert response.get_data(as_text=True) == "user alice"
    assert count_queries.count == 1, count_queries.statements
    [statement] = count_queries.statements
    assert statement.lstrip().upper().startswith("SELECT")
    assert "user_session" in statement and "JOIN" in statement.upper()
    # A cookie naming no session costs the same single statement; no cookie costs none.
    for name, expected in ((AUTH_COOKIE, 1), (None, 0)):
        stranger = app.test_client()
        if name:
            stranger.set_cookie(name, "made-up")
        count_queries.statements.clear()
        assert stranger.get("/probe").status_code == 302
        assert count_queries.count == expected, count_queries.statements


@pytest.mark.usefixtures("alice")
def test_a_card_and_a_feed_page_stay_at_two_statements(
    app: Flask, count_queries: QueryCounter
) -> None:
    make_user(app, "bob")
    client = log_in(app)
    assert is_logged_in(client)  # any write of "last seen" happens here, not below
    count_queries.statements.clear()
    assert client.get("/user/bob/popup", headers=HTMX).status_code == 200
    assert count_queries.count == 2, count_queries.statements
    count_queries.statements.clear()
    assert client.get("/").status_code == 200
    assert count_queries.count == 2, count_queries.statements


# What is stored, what the browser keeps ---------------------------------------------------


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("remember_me", [False, True])
def test_the_database_stores_only_the_hash_of_the_cookie(app: Flask, remember_me: bool) -> None:
    client = log_in(app, remember_me=remember_me)
    token = client.get_cookie(AUTH_COOKIE).value
    assert len(token) >= 43  # 256 random bits, base64
    with app.app_context():
        rows = db.session.execute(select(UserSession.__table__)).all()
    assert len(rows) == 1
    assert rows[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    for value in rows[0]:
        assert token not in str(value)


@pytest.mark.usefixtures("alice")
def test_remembered_cookie_has_a_lifetime_and_the_other_none(app: Flask) -> None:
    def auth_cookie_header(remember_me: bool) -> str:
        response = AuthActions(app.test_client()).login(remember_me=remember_me)
        [header] = [
            h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{AUTH_COOKIE}=")
        ]
        return header.lower()

    remembered = auth_cookie_header(True)
    # The browser may keep it as long as a session can live; the server ends it sooner when
    # it goes unused.
    assert f"max-age={int(MAX_AGE.total_seconds())}" in remembered and "expires=" in remembered
    browser_only = auth_cookie_header(False)
    assert "max-age" not in browser_only and "expires" not in browser_only
    for header in (remembered, browser_only):
        assert "httponly" in header and "samesite=lax" in header


# Lifetimes ------------------------------------------------------------------------------------


@pytest.mark.usefixtures("alice")
def test_a_session_not_remembered_ends_after_24_hours_unused(app: Flask) -> None:
    client = log_in(app, remember_me=False)
    session_id = session_of(app, client).id
    shift_back(app, session_id, timedelta(hours=23, minutes=59))
    assert is_logged_in(client)  # this use starts a new 24 hours
    shift_back(app, session_id, timedelta(hours=23, minutes=59))
    assert is_logged_in(client)  # 48 hours after the login, but used in between
    shift_back(app, session_id, timedelta(hours=24, minutes=1))
    assert not is_logged_in(client)


@pytest.mark.usefixtures("alice")
def test_a_remembered_session_ends_after_14_days_unused(app: Flask) -> None:
    client = log_in(app, remember_me=True)
    session_id = session_of(app, client).id
    shift_back(app, session_id, timedelta(days=13, hours=23))
    assert is_logged_in(client)  # and that use starts a new 14 days
    shift_back(app, session_id, timedelta(days=13, hours=23))
    assert is_logged_in(client)
    shift_back(app, session_id, timedelta(days=14, minutes=1))
    assert not is_logged_in(client)


@pytest.mark.usefixtures("alice")
def test_a_remembered_session_ends_after_90_days_even_if_used_daily(app: Flask) -> None:
    client = log_in(app, remember_me=True)
    session_id = session_of(app, client).id
    for day in range(1, 90):
        shift_back(app, session_id, timedelta(days=1))
        assert is_logged_in(client), f"day {day}"
    row = session_of(app, client)
    # Each use moved the expiry on, but never past the login plus 90 days.
    assert row.expires_at == row.created_at + MAX_AGE
    assert row.last_seen_at > utcnow() - timedelta(minutes=1)
    shift_back(app, session_id, timedelta(days=1))
    assert not is_logged_in(client)


@pytest.mark.usefixtures("alice")
def test_last_use_is_written_at_most_once_a_minute(app: Flask, count_queries: QueryCounter) -> None:
    client = log_in(app)
    session_id = session_of(app, client).id
    shift_back(app, session_id, timedelta(minutes=2))
    before = session_of(app, client).last_seen_at

    def session_updates() -> list[str]:
        return [
            s
            for s in count_queries.statements
            if s.lstrip().upper().startswith("UPDATE") and "user_session" in s
        ]

    count_queries.statements.clear()
    assert is_logged_in(client)
    assert len(session_updates()) == 1
    recorded = session_of(app, client).last_seen_at
    assert recorded > before + timedelta(minutes=1)
    count_queries.statements.clear()
    assert is_logged_in(client)
    assert client.get("/user/alice").status_code == 200
    assert session_updates() == []
    assert session_of(app, client).last_seen_at == recorded
    # Fragments never write, even when the last write is old.
    shift_back(app, session_id, timedelta(minutes=2))
    count_queries.statements.clear()
    assert client.get("/user/alice/popup", headers=HTMX).status_code == 200
    assert client.get("/", headers=HTMX).status_code == 200
    assert session_updates() == []


# Devices -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user_agent", "description"),
    [
        (CHROMIUM_LINUX, "Chromium on Linux"),
        (HEADLESS_CHROMIUM, "Chromium on Linux"),
        (CHROME_WINDOWS, "Chrome on Windows"),
        (EDGE_WINDOWS, "Edge on Windows"),
        (OPERA_WINDOWS, "Opera on Windows"),
        (FIREFOX_LINUX, "Firefox on Linux"),
        (FIREFOX_ANDROID, "Firefox on Android"),
        (CHROME_ANDROID, "Chrome on Android"),
        (SAFARI_IPHONE, "Safari on iOS"),
        (CHROME_IPHONE, "Chrome on iOS"),
        (SAFARI_IPAD, "Safari on iPadOS"),
        (SAFARI_MAC, "Safari on macOS"),
        (CHROME_OS, "Chrome on ChromeOS"),
        ("curl/8.5.0", "curl"),
        ("python-requests/2.31.0", "Python"),
        ("", "Unknown browser"),
        (None, "Unknown browser"),
        ("<script>alert(1)</script>", "Unknown browser"),
    ],
)
def test_describe_device(user_agent: str | None, description: str) -> None:
    assert describe_device(user_agent) == description


def test_a_huge_user_agent_still_fits_the_column() -> None:
    from webapp.accounts.models import DEVICE_MAX_LENGTH

    assert len(describe_device("Firefox/1 " + "Linux " * 10_000)) <= DEVICE_MAX_LENGTH


@pytest.mark.usefixtures("alice")
def test_the_session_records_the_browser(app: Flask) -> None:
    client = log_in(app, user_agent=CHROMIUM_LINUX)
    assert session_of(app, client).device == "Chromium on Linux"
    html = client.get("/settings").get_data(as_text=True)
    assert "Chromium on Linux" in html


# Purging -----------------------------------------------------------------------------------


def expire(app: Flask, session_id: int) -> None:
    with app.app_context():
        db.session.execute(
            update(UserSession)
            .where(UserSession.id == session_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()


@pytest.mark.usefixtures("alice")
def test_purge_sessions_command_deletes_only_expired_rows(app: Flask, runner) -> None:
    clients = [log_in(app) for _ in range(4)]
    ids = [session_of(app, client).id for client in clients]
    expire(app, ids[0])
    expire(app, ids[1])
    result = runner.invoke(args=["purge-sessions"])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 expired sessions." in result.output
    with app.app_context():
        left = set(db.session.scalars(select(UserSession.id)))
    assert left == {ids[2], ids[3]}
    assert [is_logged_in(client) for client in clients] == [False, False, True, True]
    again = runner.invoke(args=["purge-sessions"])
    assert "Deleted 0 expired sessions." in again.output


def test_purge_sessions_command_on_an_unmigrated_database(empty_app: Flask) -> None:
    result = empty_app.test_cli_runner().invoke(args=["purge-sessions"])
    assert result.exit_code != 0 and "alembic upgrade head" in result.output


def test_a_login_deletes_some_expired_rows_on_the_side(app: Flask, alice: int) -> None:
    live = log_in(app)
    stale = utcnow() - timedelta(days=1)
    expired_rows = PURGE_ON_LOGIN + 5
    with app.app_context():
        db.session.execute(
            insert(UserSession),
            [
                {
                    "token_hash": hashlib.sha256(f"old-{n}".encode()).hexdigest(),
                    "user_id": alice,
                    "created_at": stale - timedelta(days=1),
                    "last_seen_at": stale,
                    "device": "",
                    "remembered": False,
                    "expires_at": stale,
                }
                for n in range(expired_rows)
            ],
        )
        db.session.commit()
    assert session_count(app) == expired_rows + 1
    log_in(app)
    with app.app_context():
        expired = db.session.scalar(select(func.count()).where(UserSession.expires_at <= utcnow()))
    # A bounded amount per login, so no login waits on a big delete.
    assert expired == expired_rows - PURGE_ON_LOGIN
    assert session_count(app) == 5 + 2
    assert is_logged_in(live)


# Ending sessions -----------------------------------------------------------------------------


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("remember_me", [False, True])
def test_a_copied_cookie_dies_with_the_header_log_out(app: Flask, remember_me: bool) -> None:
    client = log_in(app, remember_me=remember_me)
    stolen = client.get_cookie(AUTH_COOKIE).value
    thief = app.test_client()
    thief.set_cookie(AUTH_COOKIE, stolen)
    assert is_logged_in(thief)  # the copy works while the session lives
    assert AuthActions(client).logout().status_code == 303
    assert not is_logged_in(thief)
    assert not is_logged_in(client)
    assert session_count(app) == 0


@pytest.mark.usefixtures("alice")
def test_the_header_log_out_ends_this_device_only(app: Flask) -> None:
    laptop, phone = log_in(app), log_in(app)
    AuthActions(laptop).logout()
    assert not is_logged_in(laptop)
    assert is_logged_in(phone)


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("htmx", [True, False])
def test_a_copied_cookie_dies_when_settings_logs_its_session_out(app: Flask, htmx: bool) -> None:
    laptop = log_in(app, user_agent=FIREFOX_LINUX)
    phone = log_in(app, user_agent=SAFARI_IPHONE, remember_me=True)
    thief = app.test_client()
    thief.set_cookie(AUTH_COOKIE, phone.get_cookie(AUTH_COOKIE).value)
    assert is_logged_in(thief)
    phone_id = session_of(app, phone).id
    response = post_settings(laptop, f"/settings/sessions/{phone_id}/end", htmx)
    if htmx:
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert html.lstrip().startswith(
            '<section class="card-panel settings-section" id="sessions"'
        )
        assert "<html" not in html
        assert "That session is logged out." in html
        assert set(session_items(html)) == {session_of(app, laptop).id}
    else:
        assert response.status_code == 303 and response.location == "/settings#sessions"
        assert "That session is logged out." in laptop.get(response.location).get_data(as_text=True)
    assert not is_logged_in(thief)
    assert not is_logged_in(phone)
    assert is_logged_in(laptop)


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("htmx", [True, False])
def test_log_out_all_other_sessions(app: Flask, htmx: bool) -> None:
    laptop = log_in(app)
    others = [log_in(app), log_in(app, remember_me=True)]
    thieves = []
    for other in others:
        thief = app.test_client()
        thief.set_cookie(AUTH_COOKIE, other.get_cookie(AUTH_COOKIE).value)
        assert is_logged_in(thief)
        thieves.append(thief)
    bob = make_user(app, "bob")
    bobs_browser = log_in(app, "bob")
    response = post_settings(laptop, "/settings/sessions/end-others", htmx)
    if htmx:
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        assert "<html" not in html and 'id="sessions"' in html
        assert "2 other sessions logged out." in html
    else:
        assert response.status_code == 303 and response.location == "/settings#sessions"
        assert "2 other sessions logged out." in laptop.get("/settings").get_data(as_text=True)
    assert not any(is_logged_in(client) for client in [*others, *thieves])
    assert is_logged_in(laptop)
    assert is_logged_in(bobs_browser) and bob  # another user's sessions are not touched


@pytest.mark.usefixtures("alice")
def test_the_logout_response_deletes_every_auth_cookie(app: Flask) -> None:
    client = app.test_client()
    # A remember-me cookie of an earlier release, which this browser still sends.
    client.set_cookie("remember_token", "1|0123456789abcdef")
    assert not is_logged_in(client)  # it logs nobody in
    assert AuthActions(client).login().status_code == 303
    assert is_logged_in(client)
    client.set_cookie("remember_token", "1|0123456789abcdef")  # sent again, say
    response = AuthActions(client).logout()
    deleted = {
        header.split("=", 1)[0]
        for header in response.headers.getlist("Set-Cookie")
        if "max-age=0" in header.lower() and "expires=thu, 01 jan 1970" in header.lower()
    }
    assert {AUTH_COOKIE, "remember_token"} <= deleted
    assert client.get_cookie(AUTH_COOKIE) is None
    assert client.get_cookie("remember_token") is None


@pytest.mark.usefixtures("alice")
def test_a_login_deletes_a_legacy_remember_cookie(app: Flask) -> None:
    client = app.test_client()
    client.set_cookie("remember_token", "1|0123456789abcdef")
    AuthActions(client).login()
    assert client.get_cookie("remember_token") is None
    assert client.get_cookie(AUTH_COOKIE) is not None


@pytest.mark.usefixtures("alice")
def test_an_unknown_cookie_is_deleted(app: Flask) -> None:
    client = app.test_client()
    client.set_cookie(AUTH_COOKIE, "ended-or-forged")
    assert not is_logged_in(client)
    assert client.get_cookie(AUTH_COOKIE) is None


# Settings > Sessions ------------------------------------------------------------------------


@pytest.mark.usefixtures("alice")
def test_settings_lists_the_sessions_and_marks_this_device(app: Flask) -> None:
    laptop = log_in(app, user_agent=FIREFOX_LINUX)
    phone = log_in(app, user_agent=SAFARI_IPHONE, remember_me=True)
    expired = log_in(app, user_agent=CHROME_WINDOWS)
    expire(app, session_of(app, expired).id)
    make_user(app, "bob")
    log_in(app, "bob", user_agent=EDGE_WINDOWS)
    html = laptop.get("/settings").get_data(as_text=True)
    items = session_items(html)
    laptop_id, phone_id = session_of(app, laptop).id, session_of(app, phone).id
    # Alice's live sessions only: not the expired one, not Bob's.
    assert set(items) == {laptop_id, phone_id}
    assert "Firefox on Linux" in items[laptop_id] and "this device" in items[laptop_id]
    assert "Safari on iOS" in items[phone_id] and "this device" not in items[phone_id]
    assert "until the browser closes" in items[laptop_id] and "remembered" in items[phone_id]
    # Nothing to log out on this device's row (the header's Log out does that); the others
    # have a button of their own.
    assert "<button" not in items[laptop_id] and "/end" not in items[laptop_id]
    assert f'action="/settings/sessions/{phone_id}/end"' in items[phone_id]
    assert ">Log out</button>" in items[phone_id]
    assert "Log out all other sessions" in html


@pytest.mark.usefixtures("alice")
def test_with_one_session_there_is_nothing_else_to_log_out(app: Flask) -> None:
    html = log_in(app).get("/settings").get_data(as_text=True)
    assert len(session_items(html)) == 1
    assert "Log out all other sessions" not in html


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("htmx", [True, False])
def test_another_users_session_cannot_be_ended(app: Flask, htmx: bool) -> None:
    make_user(app, "bob")
    bob = log_in(app, "bob")
    bob_session = session_of(app, bob).id
    alice = log_in(app)
    response = post_settings(alice, f"/settings/sessions/{bob_session}/end", htmx)
    # 422: the section comes back with the problem in it (htmx swaps 422, not 404).
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "That session has ended already." in html
    assert ("<html" in html) is not htmx
    assert is_logged_in(bob)
    assert session_of(app, bob) is not None
    assert is_logged_in(alice)


@pytest.mark.usefixtures("alice")
def test_ending_this_device_from_the_list_is_refused(app: Flask) -> None:
    client = log_in(app)
    this_id = session_of(app, client).id
    response = post_settings(client, f"/settings/sessions/{this_id}/end", htmx=True)
    assert response.status_code == 422
    assert "Use Log out at the top" in response.get_data(as_text=True)
    assert is_logged_in(client)


@pytest.mark.usefixtures("alice")
def test_ending_a_session_needs_the_csrf_token(app: Flask) -> None:
    laptop, phone = log_in(app), log_in(app)
    phone_id = session_of(app, phone).id
    assert laptop.post(f"/settings/sessions/{phone_id}/end").status_code == 400
    assert laptop.post("/settings/sessions/end-others", headers=HTMX).status_code == 400
    assert is_logged_in(phone)


def test_ending_sessions_needs_a_login(app: Flask, alice: int) -> None:
    phone = log_in(app)
    phone_id = session_of(app, phone).id
    stranger = app.test_client()
    token = csrf_token(stranger, "/login")
    response = stranger.post(f"/settings/sessions/{phone_id}/end", data={"csrf_token": token})
    assert response.status_code == 302 and response.location.startswith("/login")
    assert is_logged_in(phone)
    with app.app_context():
        assert db.session.get(User, alice) is not None


@pytest.mark.usefixtures("alice")
def test_a_password_change_gives_this_browser_a_new_session_id(app: Flask) -> None:
    """This browser stays logged in, but a copy of its cookie from before the change (taken
    by whoever may have had the password) is worthless afterwards."""
    laptop = log_in(app, remember_me=True)
    stolen = laptop.get_cookie(AUTH_COOKIE).value
    before = session_of(app, laptop)
    new_password = "a brand new passphrase, long enough"
    response = post_settings(
        laptop,
        "/settings/password",
        htmx=True,
        data={
            "current_password": PASSWORD,
            "password": new_password,
            "confirm_password": new_password,
        },
    )
    assert response.status_code == 200
    assert is_logged_in(laptop)
    after = session_of(app, laptop)
    # A new id (SQLite may reuse the row number; the token is what counts).
    assert after.token_hash != before.token_hash and after.remembered  # remember-me kept
    thief = app.test_client()
    thief.set_cookie(AUTH_COOKIE, stolen)
    assert not is_logged_in(thief)


@pytest.mark.usefixtures("alice")
def test_logging_in_again_ends_the_browsers_previous_session(app: Flask) -> None:
    """A browser that gets a new session (here: a password reset while logged in) leaves
    no live session behind it."""
    from webapp.accounts import tokens

    make_user(app, "bob")
    client = log_in(app)
    alice_cookie = client.get_cookie(AUTH_COOKIE).value
    with app.test_request_context():
        bob = db.session.scalar(select(User).where(User.username_canon == "bob"))
        link = f"/reset_password/{tokens.make_token(tokens.RESET_PASSWORD, bob)}"
    new_password = "a brand new passphrase, long enough"
    token = csrf_token(client, link)
    response = client.post(
        link,
        data={"csrf_token": token, "password": new_password, "confirm_password": new_password},
    )
    assert response.status_code == 303
    copy = app.test_client()
    copy.set_cookie(AUTH_COOKIE, alice_cookie)
    assert not is_logged_in(copy)


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("number", ["9223372036854775808", "99999999999999999999", "2147483648"])
def test_a_session_number_too_large_is_a_404(app: Flask, number: str) -> None:
    client = log_in(app)
    response = post_settings(client, f"/settings/sessions/{number}/end", htmx=False)
    assert response.status_code == 404
