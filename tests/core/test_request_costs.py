"""The speed-ups of docs/performance.md keep their meaning: reads without a transaction only
where nothing is written, the session cookie decoded only when used, Flask-Limiter's
per-request check only when a limit needs it, and rate-limit counters without threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from jinja2.runtime import Context
from sqlalchemy import event

from tests.conftest import HTMX
from tests.conftest import AuthActions
from tests.conftest import add_posts
from tests.conftest import csrf_token
from tests.conftest import make_app
from tests.conftest import make_user
from webapp.core.application import Application
from webapp.core.extensions import db
from webapp.core.process_counters import ProcessCounters
from webapp.core.sql import joined_strings
from webapp.core.throttling import EXTENSION_KEY


class DriverStatements:
    """Each statement the app sends (transaction control included), with whether the driver
    connection it went through was inside a transaction or committing on its own."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, bool]] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        driver = conn.connection.driver_connection
        own_transaction = (
            driver.autocommit
            if hasattr(driver, "autocommit") and conn.dialect.name != "sqlite"
            # sqlite3 with isolation_level None: only an explicit BEGIN opens a transaction.
            else not driver.in_transaction
        )
        self.seen.append((statement.strip().split()[0].upper(), bool(own_transaction)))


@pytest.fixture
def driver_statements(app: Flask) -> Iterator[DriverStatements]:
    spy = DriverStatements()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", spy)
    yield spy
    event.remove(engine, "before_cursor_execute", spy)


def test_reads_run_without_a_transaction_and_writes_inside_one(
    app: Flask, client: FlaskClient, auth: AuthActions, driver_statements: DriverStatements
) -> None:
    make_user(app, "bob")
    auth.register("alice")
    auth.login("alice")
    headers = {**HTMX, "X-CSRFToken": csrf_token(client, "/")}

    driver_statements.seen.clear()
    assert client.get("/user/bob/popup", headers=HTMX).status_code == 200
    # A card: the user and the card, each its own statement, no BEGIN/ROLLBACK around them.
    assert driver_statements.seen == [("SELECT", True), ("SELECT", True)]

    driver_statements.seen.clear()
    assert client.post("/user/bob/follow", headers=headers).status_code == 200
    statements = [name for name, _ in driver_statements.seen]
    # A follow: the user is read inside the transaction that writes (on SQLite after
    # BEGIN IMMEDIATE has taken the write lock), so everything commits or nothing does.
    assert all(not own for name, own in driver_statements.seen if name != "BEGIN")
    assert "INSERT" in statements and "UPDATE" in statements
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        assert statements[0] == "BEGIN"


def test_a_request_that_never_reads_the_session_never_decodes_its_cookie(
    app: Flask, client: FlaskClient, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_user(app, "bob")
    auth.register("alice")
    auth.login("alice")
    client.get("/")  # the session cookie now holds the CSRF token
    decoded: list[str] = []
    real_loads = URLSafeTimedSerializer.loads

    def counting_loads(self, *args, **kwargs):  # the real method, counted
        decoded.append("loads")
        return real_loads(self, *args, **kwargs)

    monkeypatch.setattr(URLSafeTimedSerializer, "loads", counting_loads)

    card = client.get("/user/bob/popup", headers=HTMX)
    assert card.status_code == 200
    assert decoded == []
    assert "session=" not in card.headers.get("Set-Cookie", "")

    page = client.get("/")  # its forms need the CSRF token: the cookie is read now
    assert page.status_code == 200
    assert decoded == ["loads"]


def test_a_forged_session_cookie_is_an_empty_session_when_it_is_read(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    auth.register("alice")
    auth.login("alice")
    token = csrf_token(client, "/")
    client.set_cookie("session", "forged.cookie.value")
    # The token in the forged session cannot be read, so a post with the old token fails.
    refused = client.post("/", data={"body": "hello", "csrf_token": token})
    assert refused.status_code == 400


def test_flask_limiters_check_on_every_request_is_off_without_app_wide_limits(
    database_url: str,
) -> None:
    plain = make_app(database_url)
    limiter = plain.extensions[EXTENSION_KEY]
    assert limiter._check_request_limit not in plain.before_request_funcs[None]

    with_default = make_app(database_url, RATELIMIT_DEFAULT="2 per minute")
    limiter = with_default.extensions[EXTENSION_KEY]
    assert limiter._check_request_limit in with_default.before_request_funcs[None]
    with with_default.app_context():
        db.create_all()
    client = with_default.test_client()
    statuses = [client.get("/login").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # the default limit holds on an undecorated page


def test_process_counters_count_per_window_and_start_no_threads() -> None:
    counters = ProcessCounters()
    threads_before = threading.active_count()
    assert [counters.incr("k", expiry=1) for _ in range(3)] == [1, 2, 3]
    assert counters.get("k") == 3
    assert counters.get_expiry("k") > time.time()
    assert threading.active_count() == threads_before  # limits' memory:// starts one a hit
    counters.incr("short", expiry=0.05)
    time.sleep(0.1)
    assert counters.get("short") == 0  # expired: read as a new window
    assert counters.incr("short", expiry=1) == 1


def test_process_counters_sweep_expired_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    counters = ProcessCounters()
    for n in range(100):
        counters.incr(f"visitor-{n}", expiry=0.01)
    time.sleep(0.05)
    monkeypatch.setattr(counters, "next_sweep", 0.0)  # the once-a-second sweep is due
    counters.incr("someone-else", expiry=60)
    assert set(counters.counts) == {"someone-else"}
    assert set(counters.expiries) == {"someone-else"}


def test_the_hot_statements_are_sent_as_compiled_not_rewritten_at_each_execution(
    app: Flask, client: FlaskClient, auth: AuthActions
) -> None:
    """A "literal execute" parameter makes SQLAlchemy render its statement's SQL again at
    every execution (it was 10 % of a card in-process): the card, the feed, a profile and a
    thread page, with mentions, links and the "Followed by" line, send none."""
    bob = make_user(app, "bob", about_me="Friends with @alice")
    carol = make_user(app, "carol")
    auth.register("alice")
    auth.login("alice")
    headers = {**HTMX, "X-CSRFToken": csrf_token(client, "/")}
    assert client.post("/user/carol/follow", headers=headers).status_code == 200
    with app.app_context():
        from webapp.people.follows import follow

        follow(carol, bob)
    (top,) = add_posts(app, bob, ["Hello @alice, see https://example.com"])
    add_posts(app, carol, ["A reply to @bob"], reply_to=top)

    rewritten: list[str] = []

    def spy(conn, cursor, statement, parameters, context, executemany) -> None:
        compiled = getattr(context, "compiled", None)
        if compiled is not None and compiled.literal_execute_params:
            rewritten.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", spy)
    try:
        for page in ["/", f"/c/{top}", "/user/bob"]:
            assert client.get(page).status_code == 200
        card = client.get("/user/bob/popup", headers=HTMX)
        assert "Followed by carol" in card.text
        assert client.get(f"/c/{top}/replies", headers=HTMX).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    assert rewritten == []


def test_joined_strings_refuses_a_separator_that_would_change_the_sql() -> None:
    from webapp.accounts.models import User

    for separator in ["'", "\\", "a'b"]:
        with pytest.raises(ValueError):
            joined_strings(User.username, separator)


def test_flask_is_asked_once_per_function_whether_it_is_a_coroutine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    asked: list[object] = []
    answer = Flask.ensure_sync

    def counting(self: Flask, func: object) -> object:
        asked.append(func)
        return answer(self, func)

    monkeypatch.setattr(Flask, "ensure_sync", counting)
    app = Application(__name__)

    def view() -> str:
        return "ok"

    assert [app.ensure_sync(view) for _ in range(3)] == [view] * 3
    assert asked == [view]


def test_ten_more_comments_add_only_their_macro_calls_through_jinjas_context(
    app: Flask, client: FlaskClient, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Per-comment helpers are filters and tests, not globals: Jinja calls a global through
    Context.call (three lookups before the call, two of them failing). Ten more comments on
    the viewer's own feed (Edit and Delete shown, so every helper runs) add only three calls
    each: the two macros, thread_item and post_item, and csrf_token() for Delete's form."""
    calls: list[object] = []
    call = Context.call

    def counting(self: Context, function: object, *args: object, **kwargs: object) -> object:
        calls.append(function)
        return call(self, function, *args, **kwargs)

    def calls_to_render_the_feed(comments: int) -> int:
        calls.clear()
        with monkeypatch.context() as patch:
            patch.setattr(Context, "call", counting)
            page = client.get("/").text
        assert page.count('class="post"') == page.count(">Edit</a>") == comments
        return len(calls)

    alice = make_user(app, "alice")
    auth.login("alice")
    add_posts(app, alice, [f"Comment {n}" for n in range(5)])
    five = calls_to_render_the_feed(5)
    add_posts(app, alice, [f"Comment {n}" for n in range(5, 15)])
    assert calls_to_render_the_feed(15) - five == 10 * 3
