"""Login limits: no stranger can lock the owner out (device cookies), counting happens before
the password is checked (no overrun under concurrency), right passwords cost nothing,
successes are bounded before hashing, and Redis going away changes none of it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeSerializer
from limits import parse
from werkzeug.test import TestResponse

from tests.conftest import PASSWORD
from tests.conftest import REDIS_URL
from tests.conftest import TEST_SECRET_KEY
from tests.conftest import AuthActions
from tests.conftest import csrf_token
from tests.conftest import make_app
from tests.conftest import make_user
from tests.servers import Browserless
from tests.servers import gunicorn
from tests.servers import site_environment
from webapp.accounts import device_cookies
from webapp.accounts.device_cookies import COOKIE_NAME
from webapp.accounts.login_throttle import ACCOUNT_MESSAGE
from webapp.accounts.login_throttle import ADDRESS_MESSAGE
from webapp.accounts.login_throttle import DEVICE_MESSAGE
from webapp.accounts.login_throttle import SUCCESS_MESSAGE
from webapp.accounts.login_throttle import Hit
from webapp.accounts.login_throttle import Limit
from webapp.accounts.login_throttle import give_back
from webapp.core.extensions import db
from webapp.core.throttling import count

WRONG = "not the password at all"
CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"  # nothing listens there
STORAGES = ["memory://", REDIS_URL]


def throttled_app(database_url: str, redis_prefix: str, **settings: object) -> Flask:
    app = make_app(database_url, RATELIMIT_KEY_PREFIX=redis_prefix, **settings)
    with app.app_context():
        db.create_all()
    return app


def attempt(
    client: FlaskClient, username: str, password: str, address: str = "127.0.0.1"
) -> TestResponse:
    """One login through the form, from `address`."""
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        data={"csrf_token": token, "username": username, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


def own_browser(app: Flask, username: str = "alice") -> FlaskClient:
    """A browser that has logged into the account (so holds a device cookie for it), then
    logged out again."""
    browser = app.test_client()
    assert attempt(browser, username, PASSWORD).status_code == 303
    assert browser.get_cookie(COOKIE_NAME, path="/login") is not None
    AuthActions(browser).logout()
    return browser


def strangers_attack(app: Flask, username: str, times: int) -> list[TestResponse]:
    """Wrong passwords from new browsers, each from an address of its own (so the limit
    per address is not what stops them)."""
    return [
        attempt(app.test_client(), username, WRONG, address=f"10.0.{n // 250}.{n % 250 + 1}")
        for n in range(times)
    ]


def assert_refused(response: TestResponse, message: str) -> int:
    """A 429 that says why and when to retry; the seconds to wait."""
    assert response.status_code == 429, response.status_code
    page = response.get_data(as_text=True)
    assert message in page, page
    assert "Please try again in " in page
    return int(response.headers["Retry-After"])


@pytest.mark.parametrize("storage", STORAGES)
def test_strangers_cannot_lock_the_owner_out(
    database_url: str, redis_prefix: str, storage: str
) -> None:
    app = throttled_app(
        database_url,
        redis_prefix,
        RATELIMIT_STORAGE_URI=storage,
        RATELIMIT_LOGIN_PER_ACCOUNT="10 per 5 seconds",  # short, and still longer than the attack
    )
    AuthActions(app.test_client()).register("alice")
    alice = own_browser(app)

    statuses = [response.status_code for response in strangers_attack(app, "alice", 50)]
    assert statuses == [422] * 10 + [429] * 40

    # A brand-new browser is a stranger too: refused, even with the right password...
    newcomer = app.test_client()
    wait = assert_refused(attempt(newcomer, "alice", PASSWORD), ACCOUNT_MESSAGE)
    # ...while the owner's own browser logs in at once.
    assert attempt(alice, "alice", PASSWORD).status_code == 303
    assert alice.get("/").status_code == 200

    # The window passes (Redis rounds a TTL to the nearest second, so Retry-After may be up
    # to half a second early).
    time.sleep(wait + 1)
    assert attempt(newcomer, "alice", PASSWORD).status_code == 303


def test_device_over_its_own_limit_is_refused_while_others_are_not(
    database_url: str, redis_prefix: str
) -> None:
    app = throttled_app(database_url, redis_prefix, RATELIMIT_LOGIN_PER_DEVICE="3 per 15 minutes")
    AuthActions(app.test_client()).register("alice")
    laptop, phone = own_browser(app), own_browser(app)

    assert [attempt(laptop, "alice", WRONG).status_code for _ in range(3)] == [422] * 3
    # The laptop's cookie is on the lockout list, right password or not...
    wait = assert_refused(attempt(laptop, "alice", PASSWORD), DEVICE_MESSAGE)
    assert 14 * 60 <= wait <= 15 * 60
    # ...the phone is another device...
    assert attempt(phone, "alice", PASSWORD).status_code == 303
    # ...and the laptop's failures are its own, not the account's.
    assert attempt(app.test_client(), "alice", PASSWORD, address="192.0.2.9").status_code == 303


def test_address_limit_holds_for_devices_too(database_url: str, redis_prefix: str) -> None:
    app = throttled_app(database_url, redis_prefix, RATELIMIT_LOGIN_PER_ADDRESS="3 per 15 minutes")
    AuthActions(app.test_client()).register("alice")
    alice = own_browser(app)  # a right password: not counted against the address
    for n in range(3):
        assert attempt(app.test_client(), f"nobody{n}", WRONG).status_code == 422
    assert_refused(attempt(alice, "alice", PASSWORD), ADDRESS_MESSAGE)


def cookie_payload(value: str) -> str:
    return value.rsplit(".", 1)[0]


def bad_device_cookie(kind: str, app: Flask) -> str:
    """A device cookie that must not count for alice."""
    now = int(time.time())
    entry = [["alice", "a-nonce-of-my-choosing", now]]
    if kind == "for another account":
        return own_browser(app, "bob").get_cookie(COOKIE_NAME, path="/login").value
    if kind == "tampered":
        # Bob's real, signed cookie with its payload rewritten to name alice.
        bobs = own_browser(app, "bob").get_cookie(COOKIE_NAME, path="/login").value
        with app.app_context():
            alices = device_cookies.serializer().dumps(entry)
        return f"{cookie_payload(alices)}.{bobs.rsplit('.', 1)[1]}"
    if kind == "forged with another key":
        return URLSafeSerializer("x" * 64, salt=device_cookies.SALT).dumps(entry)
    if kind == "signed for another purpose":
        return URLSafeSerializer(TEST_SECRET_KEY, salt="cookie-session").dumps(entry)
    if kind == "expired":
        year_and_a_day_ago = now - device_cookies.LIFETIME_SECONDS - 24 * 3600
        entry[0][2] = year_and_a_day_ago
        return URLSafeSerializer(TEST_SECRET_KEY, salt=device_cookies.SALT).dumps(entry)
    raise AssertionError(kind)


@pytest.mark.parametrize(
    "kind",
    [
        "for another account",
        "tampered",
        "forged with another key",
        "signed for another purpose",
        "expired",
    ],
)
def test_invalid_device_cookie_counts_as_none(
    database_url: str, redis_prefix: str, kind: str
) -> None:
    app = throttled_app(database_url, redis_prefix, RATELIMIT_LOGIN_PER_ACCOUNT="3 per 15 minutes")
    auth = AuthActions(app.test_client())
    auth.register("alice")
    auth.register("bob")
    alice = own_browser(app)
    value = bad_device_cookie(kind, app)
    assert [r.status_code for r in strangers_attack(app, "alice", 3)] == [422] * 3

    intruder = app.test_client()
    intruder.set_cookie(COOKIE_NAME, value, path="/login")
    assert_refused(attempt(intruder, "alice", PASSWORD), ACCOUNT_MESSAGE)
    assert attempt(alice, "alice", PASSWORD).status_code == 303  # the real one works


def test_device_cookie_attributes_and_its_five_accounts(
    database_url: str, redis_prefix: str
) -> None:
    app = throttled_app(database_url, redis_prefix, SESSION_COOKIE_SECURE=True)
    names = [f"user{n}" for n in range(6)]
    auth = AuthActions(app.test_client())
    for name in names:
        auth.register(name)
    browser = app.test_client()
    for name in names:
        response = attempt(browser, name, PASSWORD)
        assert response.status_code == 303
        header = next(c for c in response.headers.getlist("Set-Cookie") if COOKIE_NAME in c)
        for part in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/login", "Max-Age=31536000"):
            assert part in header, header
        AuthActions(browser).logout()
    with app.app_context():
        value = browser.get_cookie(COOKIE_NAME, path="/login").value
        entries = device_cookies.serializer().loads(value)
    # The newest first; the one logged into longest ago is forgotten.
    assert [entry[0] for entry in entries] == names[::-1][:5]
    assert len({entry[1] for entry in entries}) == 5  # a nonce of its own for each


def test_successful_logins_over_the_limit_are_refused_before_hashing(
    database_url: str, redis_prefix: str, password_checks: list[str]
) -> None:
    app = throttled_app(
        database_url, redis_prefix, RATELIMIT_LOGIN_SUCCESS_PER_ACCOUNT="3 per hour"
    )
    AuthActions(app.test_client()).register("alice")
    alice = app.test_client()
    hashed = password_checks
    for _ in range(3):
        assert attempt(alice, "alice", PASSWORD).status_code == 303
        AuthActions(alice).logout()
    assert len(hashed) == 3

    # Her own browser or a new one, right password or wrong: refused, and nothing hashed.
    assert_refused(attempt(alice, "alice", PASSWORD), SUCCESS_MESSAGE)
    assert_refused(attempt(app.test_client(), "alice", PASSWORD), SUCCESS_MESSAGE)
    assert_refused(attempt(app.test_client(), "alice", WRONG), SUCCESS_MESSAGE)
    assert len(hashed) == 3
    # Other accounts are not affected.
    AuthActions(app.test_client()).register("bob")
    assert attempt(app.test_client(), "bob", PASSWORD).status_code == 303


@pytest.mark.parametrize("storage", STORAGES)
def test_right_passwords_do_not_use_up_the_failure_limits(
    database_url: str, redis_prefix: str, storage: str
) -> None:
    limit = "3 per 15 minutes"
    app = throttled_app(
        database_url,
        redis_prefix,
        RATELIMIT_STORAGE_URI=storage,
        RATELIMIT_LOGIN_PER_ADDRESS=limit,
        RATELIMIT_LOGIN_PER_ACCOUNT=limit,
        RATELIMIT_LOGIN_PER_DEVICE=limit,
    )
    AuthActions(app.test_client()).register("alice")
    alice = app.test_client()
    for _ in range(5):
        # New browsers count per account, her own per device; all per address.
        assert attempt(app.test_client(), "alice", PASSWORD).status_code == 303
        assert attempt(alice, "alice", PASSWORD).status_code == 303
        AuthActions(alice).logout()
    # All three limits are still whole: three failures, then the fourth is refused.
    assert [attempt(alice, "alice", WRONG).status_code for _ in range(3)] == [422] * 3
    assert_refused(attempt(alice, "alice", WRONG), ADDRESS_MESSAGE)
    strangers = strangers_attack(app, "alice", 4)
    assert [r.status_code for r in strangers[:3]] == [422] * 3
    assert_refused(strangers[3], ACCOUNT_MESSAGE)


@pytest.mark.parametrize("storage", STORAGES)
def test_counts_given_back_after_their_window_ended_do_not_go_below_zero(
    database_url: str, redis_prefix: str, storage: str
) -> None:
    app = throttled_app(database_url, redis_prefix, RATELIMIT_STORAGE_URI=storage)
    app.config["TEST_LIMIT"] = "1 per second"
    with app.test_request_context():
        limit = Limit("TEST_LIMIT", "test", "subject", "")
        item = parse(app.config["TEST_LIMIT"])
        assert count(lambda counters: counters.hit(item, *limit.identifiers()))
        time.sleep(1.1)  # the window ends with the attempt still in progress
        count(lambda counters: give_back(counters, [Hit(limit, item)]))
        results = [count(lambda c: c.hit(item, *limit.identifiers())) for _ in range(2)]
    assert results == [True, False]  # not a free extra hit from a count of -1


def test_redis_down_logins_work_and_limits_hold_in_memory(database_url: str) -> None:
    app = throttled_app(
        database_url,
        "unused",
        RATELIMIT_STORAGE_URI=CLOSED_PORT_REDIS,
        RATELIMIT_STORAGE_OPTIONS={"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        RATELIMIT_LOGIN_PER_ACCOUNT="3 per 15 minutes",
        RATELIMIT_LOGIN_PER_DEVICE="3 per 15 minutes",
    )
    started = time.monotonic()
    # Made in the database, not by the limited /register: a login is the first request
    # that finds Redis down.
    make_user(app, "alice")
    alice = own_browser(app)
    statuses = [r.status_code for r in strangers_attack(app, "alice", 5)]
    assert statuses == [422, 422, 422, 429, 429]
    assert_refused(attempt(app.test_client(), "alice", PASSWORD), ACCOUNT_MESSAGE)
    assert attempt(alice, "alice", PASSWORD).status_code == 303
    AuthActions(alice).logout()
    assert [attempt(alice, "alice", WRONG).status_code for _ in range(3)] == [422] * 3
    assert_refused(attempt(alice, "alice", PASSWORD), DEVICE_MESSAGE)
    assert time.monotonic() - started < 20


def test_no_more_password_checks_than_the_limit_under_concurrency(
    app: Flask, database_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    """60 wrong passwords at once for one account, 4 gunicorn workers sharing Redis: each
    response either checked the password (422) or was refused before checking it (429)."""
    AuthActions(app.test_client()).register("alice")
    env = site_environment(
        database_url,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=redis_prefix,
        FLASK_RATELIMIT_LOGIN_PER_ADDRESS="100000 per minute",
        FLASK_RATELIMIT_LOGIN_PER_ACCOUNT="10 per 15 minutes",
    )
    attackers = 60
    statuses: list[int] = []
    ready = threading.Barrier(attackers)

    def guess(client: Browserless) -> None:
        client.get("/login")  # its own session and CSRF token
        ready.wait()
        status, _, _ = client.post_form("/login", {"username": "alice", "password": WRONG})
        statuses.append(status)

    with gunicorn(tmp_path, env, workers=4) as server:
        threads = [
            threading.Thread(target=guess, args=(Browserless(server.url),))
            for _ in range(attackers)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    checked = statuses.count(422)
    assert len(statuses) == attackers
    assert checked == 10, sorted(statuses)
    assert statuses.count(429) == attackers - checked
