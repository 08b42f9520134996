"""Rate limits: failed logins, registrations, comments and cards; shared through Redis."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from tests.conftest import HTMX
from tests.conftest import PASSWORD
from tests.conftest import REDIS_URL
from tests.conftest import AuthActions
from tests.conftest import csrf_token
from tests.conftest import make_app
from tests.conftest import make_user
from tests.servers import Browserless
from tests.servers import gunicorn
from tests.servers import site_environment
from webapp.accounts.models import User
from webapp.conversation.models import Post
from webapp.core.extensions import db

TRY_AGAIN = re.compile(r"Please try again in (\d+) (seconds?|minutes)\.")


def limited_app(database_url: str, **limits: str) -> Flask:
    app = make_app(database_url, **limits)
    with app.app_context():
        db.create_all()
    return app


def assert_refused_in_words(response) -> None:
    assert response.status_code == 429
    assert TRY_AGAIN.search(response.get_data(as_text=True)), response.get_data(as_text=True)
    assert int(response.headers["Retry-After"]) > 0


def test_failed_logins_per_account(app: Flask, client: FlaskClient, auth: AuthActions) -> None:
    auth.register("alice")
    auth.register("bob")
    limit = int(app.config["RATELIMIT_LOGIN_PER_ACCOUNT"].split()[0])
    for _ in range(limit):
        assert auth.login("alice", "wrong password").status_code == 422
    refused = auth.login("ALICE", "wrong password")
    assert_refused_in_words(refused)
    assert "Too many failed logins for this account." in refused.get_data(as_text=True)
    # The right password does not get through either while the account is throttled, from
    # a browser that never logged into it (the owner's own browsers do: device cookies,
    # tests/accounts/test_login_throttle.py)...
    assert auth.login("alice", PASSWORD).status_code == 429
    # ...but other accounts, from the same address, are not affected.
    assert auth.login("bob", PASSWORD).status_code == 303


def test_successful_logins_are_not_counted(app: Flask, auth: AuthActions) -> None:
    auth.register("alice")
    limit = int(app.config["RATELIMIT_LOGIN_PER_ACCOUNT"].split()[0])
    for _ in range(limit + 2):
        # A new browser each time, so each login is counted per account, not per device.
        assert AuthActions(app.test_client()).login("alice", PASSWORD).status_code == 303
    assert auth.login("alice", "wrong password").status_code == 422


def test_failed_logins_per_address(database_url: str) -> None:
    app = limited_app(database_url, RATELIMIT_LOGIN_PER_ADDRESS="3 per 15 minutes")
    auth = AuthActions(app.test_client())
    for n in range(3):
        assert auth.login(f"nobody{n}", "wrong password").status_code == 422
    refused = auth.login("someone_else", "wrong password")
    assert_refused_in_words(refused)
    assert "14 minutes" in refused.get_data(as_text=True) or "15 minutes" in refused.get_data(
        as_text=True
    )
    # Another client address is counted on its own.
    other = app.test_client()
    token = csrf_token(other, "/login")
    response = other.post(
        "/login",
        data={"csrf_token": token, "username": "x", "password": "wrong password"},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )
    assert response.status_code == 422


def test_registrations_per_address(database_url: str) -> None:
    app = limited_app(database_url, RATELIMIT_REGISTER_PER_ADDRESS="2 per hour")
    auth = AuthActions(app.test_client())
    assert auth.register("first").status_code == 303
    assert auth.register("second").status_code == 303
    assert_refused_in_words(auth.register("third"))
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User)) == 2


def test_comments_per_user(database_url: str) -> None:
    app = limited_app(database_url, RATELIMIT_POSTS_PER_USER="3 per minute")
    client = app.test_client()
    auth = AuthActions(client)
    auth.register("alice")
    auth.login("alice")
    headers = {**HTMX, "X-CSRFToken": csrf_token(client, "/")}
    for n in range(3):
        assert client.post("/", data={"body": f"c{n}"}, headers=headers).status_code == 200
    refused = client.post("/", data={"body": "one too many"}, headers=headers)
    assert refused.status_code == 429
    assert "You are posting very fast." in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 3


def test_cards_per_user_are_generous_but_bounded(database_url: str) -> None:
    app = limited_app(database_url, RATELIMIT_CARDS_PER_USER="5 per minute")
    make_user(app, "bob")
    client = app.test_client()
    auth = AuthActions(client)
    auth.register("alice")
    auth.login("alice")
    for _ in range(5):
        assert client.get("/user/bob/popup", headers=HTMX).status_code == 200
    refused = client.get("/user/bob/popup", headers=HTMX)
    assert refused.status_code == 429
    assert "<html" not in refused.get_data(as_text=True)
    assert client.get("/").status_code == 200  # pages are not throttled


def test_limits_switched_off_refuse_nothing(database_url: str) -> None:
    """RATELIMIT_ENABLED=false (the benchmark's "card, limits off" server) starts and serves."""
    app = limited_app(database_url, RATELIMIT_ENABLED=False, RATELIMIT_CARDS_PER_USER="1/minute")
    make_user(app, "bob")
    client = app.test_client()
    auth = AuthActions(client)
    auth.register("alice")
    auth.login("alice")
    for _ in range(3):
        assert client.get("/user/bob/popup", headers=HTMX).status_code == 200


def test_default_card_limit_allows_normal_hovering(app: Flask) -> None:
    per_minute = int(app.config["RATELIMIT_CARDS_PER_USER"].split()[0])
    assert per_minute >= 120  # two new cards a second, every second, for a minute


@pytest.mark.parametrize("header", ["X-Forwarded-For"])
def test_forwarded_address_is_ignored_without_trusted_proxies(
    database_url: str, header: str
) -> None:
    app = limited_app(database_url, RATELIMIT_LOGIN_PER_ADDRESS="2 per 15 minutes")
    client = app.test_client()
    for n in range(2):
        token = csrf_token(client, "/login")
        client.post(
            "/login",
            data={"csrf_token": token, "username": f"u{n}", "password": "wrong password"},
            headers={header: f"203.0.113.{n}"},
        )
    token = csrf_token(client, "/login")
    spoofed = client.post(
        "/login",
        data={"csrf_token": token, "username": "u9", "password": "wrong password"},
        headers={header: "203.0.113.99"},
    )
    assert spoofed.status_code == 429  # a made-up header does not buy new attempts


# Redis -------------------------------------------------------------------------------------


def test_counters_live_in_redis_when_configured(database_url: str, redis_prefix: str) -> None:
    app = limited_app(
        database_url,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=redis_prefix,
        RATELIMIT_LOGIN_PER_ACCOUNT="2 per minute",
    )
    auth = AuthActions(app.test_client())
    auth.login("alice", "wrong password")
    connection = redis.Redis.from_url(REDIS_URL)
    keys = [key.decode() for key in connection.scan_iter(f"*{redis_prefix}*")]
    connection.close()
    assert any("account:alice" in key for key in keys), keys


def test_two_processes_share_one_limit(
    app: Flask, database_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    make_user(app, "alice")
    env = site_environment(
        database_url,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=redis_prefix,
        FLASK_RATELIMIT_LOGIN_PER_ACCOUNT="4 per 15 minutes",
    )
    with gunicorn(tmp_path, env) as first, gunicorn(tmp_path, env) as second:
        clients = [Browserless(first.url), Browserless(second.url)]
        statuses = [clients[n % 2].login("alice", "wrong password") for n in range(6)]
    # Four failures in all, whichever process saw them; then both refuse.
    assert statuses == [422, 422, 422, 422, 429, 429]


def test_redis_down_keeps_serving_with_limits_in_memory(database_url: str) -> None:
    app = limited_app(
        database_url,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0",  # nothing listens there
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        RATELIMIT_LOGIN_PER_ACCOUNT="3 per 15 minutes",
    )
    client = app.test_client()
    auth = AuthActions(client)
    started = time.monotonic()
    assert client.get("/login").status_code == 200
    assert auth.register("alice").status_code == 303
    statuses = [auth.login("alice", "wrong password").status_code for _ in range(4)]
    assert statuses == [422, 422, 422, 429]  # still limited, per process
    assert auth.login("bob", "wrong password").status_code == 422
    assert time.monotonic() - started < 20
