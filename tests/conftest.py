"""Fixtures: a fresh database per test (a SQLite file, or a PostgreSQL schema when
TEST_DATABASE_URL is set), the app, a client and an `auth` helper.

The database is always real: SQLite files under pytest's tmp_path, or a throwaway schema in
the PostgreSQL that TEST_DATABASE_URL names.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine
from sqlalchemy import text
from werkzeug.test import TestResponse

from webapp import create_app
from webapp.core.config import DEVELOPMENT_PUBLIC_URL
from webapp.core.config import normalise_database_url
from webapp.core.extensions import db

# The real SMTP server fixture (smtp_server), for every test.
pytest_plugins = ["tests.smtp"]

TEST_SECRET_KEY = "test-secret-key-" + "x" * 32
# The real Redis of this machine and CI; each test uses keys under its own prefix.
REDIS_URL = "redis://127.0.0.1:6379/0"
PASSWORD = "correct horse battery staple"
HTMX = {"HX-Request": "true"}

CSRF_INPUT = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
CSRF_INPUT_ALT = re.compile(r'type="hidden" name="csrf_token" value="([^"]+)"')


def postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return normalise_database_url(url) if url else None


def on_postgres() -> bool:
    return postgres_url() is not None


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """An empty database for one test."""
    base = postgres_url()
    if base is None:
        yield f"sqlite:///{tmp_path / 'test.sqlite3'}"
        close_connection_pools()
        return
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    # Every connection of the app under test lives in this schema only.
    yield f"{base}{separator}options=-csearch_path%3D{schema}"
    close_connection_pools()  # before the schema goes: no connection may hold it
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


# Apps made during a test; their connection pools are closed when it ends.
_apps_made: list[Flask] = []


def make_app(database_url: str, **overrides: Any) -> Flask:
    config = {
        "TESTING": True,
        "SECRET_KEY": TEST_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # Production apps made here (TESTING=False) need one too.
        "PUBLIC_URL": DEVELOPMENT_PUBLIC_URL,
    }
    config.update(overrides)
    app = create_app(config)
    _apps_made.append(app)
    return app


def close_connection_pools() -> None:
    while _apps_made:
        with _apps_made.pop().app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def empty_app(database_url: str) -> Flask:
    """The app on a database with no tables at all."""
    return make_app(database_url)


@pytest.fixture
def app(empty_app: Flask) -> Flask:
    with empty_app.app_context():
        db.create_all()
    return empty_app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


def csrf_token_from(html: str) -> str:
    match = CSRF_INPUT.search(html) or CSRF_INPUT_ALT.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def csrf_token(client: FlaskClient, page: str = "/login") -> str:
    """The client's CSRF token, read from a form as a browser would."""
    return csrf_token_from(client.get(page).get_data(as_text=True))


class AuthActions:
    """Register, log in and log out through the real forms, CSRF tokens included."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client

    def register(
        self,
        username: str = "alice",
        email: str | None = None,
        password: str = PASSWORD,
        confirm_password: str | None = None,
    ) -> TestResponse:
        """Create an account through the real form, from a browser of its own: registering
        logs that browser in, and this client stays as it was (most tests register a few
        people, then log in as one)."""
        return self.sign_up(
            username, email, password, confirm_password, self.client.application.test_client()
        )

    def sign_up(
        self,
        username: str = "alice",
        email: str | None = None,
        password: str = PASSWORD,
        confirm_password: str | None = None,
        client: FlaskClient | None = None,
    ) -> TestResponse:
        """Register in this client (which is then logged in as the new user)."""
        client = client or self.client
        return client.post(
            "/register",
            data={
                "csrf_token": csrf_token(client, "/register"),
                "username": username,
                "email": email if email is not None else f"{username}@example.com",
                "password": password,
                "confirm_password": password if confirm_password is None else confirm_password,
            },
        )

    def login(
        self,
        username: str = "alice",
        password: str = PASSWORD,
        remember_me: bool = False,
        next_page: str | None = None,
    ) -> TestResponse:
        data = {
            "csrf_token": csrf_token(self.client, "/login"),
            "username": username,
            "password": password,
        }
        if remember_me:
            data["remember_me"] = "y"
        query = {"next": next_page} if next_page is not None else None
        return self.client.post("/login", data=data, query_string=query)

    def logout(self) -> TestResponse:
        token = csrf_token_from(self.client.get("/").get_data(as_text=True))
        return self.client.post("/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture(autouse=True)
def ignore_local_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A developer's .env must not change what the tests see."""
    import webapp

    monkeypatch.setattr(webapp, "ENV_FILE", tmp_path / "absent.env")


@pytest.fixture(autouse=True)
def mail_outbox(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Where this test's mail goes unless it points the app at `smtp_server`: never a
    developer's mail server (MAIL_* from the shell), never their instance/mail/."""
    for name in list(os.environ):
        if name.startswith(("MAIL_", "FLASK_MAIL_")):
            monkeypatch.delenv(name)
    outbox = tmp_path / "outbox"
    monkeypatch.setenv("FLASK_MAIL_OUTBOX", str(outbox))
    return outbox


# Data helpers: rows made through the app's own services, on the real database ------------


def make_user(app: Flask, username: str, about_me: str = "", email: str | None = None) -> int:
    from webapp.accounts.identity import username_skeleton
    from webapp.accounts.models import User
    from webapp.accounts.passwords import hash_password

    with app.app_context():
        user = User(
            username=username,
            username_canon=username.casefold(),
            username_skeleton=username_skeleton(username),
            email=email or f"{username.casefold()}@example.com",
            password_hash=hash_password(PASSWORD),
            about_me=about_me,
        )
        db.session.add(user)
        db.session.commit()
        return user.id


def add_posts(
    app: Flask, user_id: int, bodies: list[str], timestamp=None, reply_to: int | None = None
) -> list[int]:
    """Comments by one user (replies to `reply_to` when given), through the same service the
    views use; `timestamp` backdates them all."""
    from sqlalchemy import update

    from webapp.accounts.models import User
    from webapp.conversation.models import Post
    from webapp.conversation.posts import create_post

    ids = []
    with app.app_context():
        for body in bodies:
            post = create_post(db.session.get(User, user_id), body, reply_to=reply_to)
            if timestamp is not None:
                db.session.execute(
                    update(Post).where(Post.id == post.id).values(timestamp=timestamp)
                )
                db.session.commit()
            ids.append(post.id)
    return ids


class QueryCounter:
    """Counts the SQL statements the app sends, with SQLAlchemy's cursor events.

    Transaction control is left out: on SQLite we send BEGIN ourselves (to choose
    IMMEDIATE for writes), where psycopg sends it implicitly and uncounted.
    """

    TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")

    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if not statement.lstrip().upper().startswith(self.TRANSACTION_CONTROL):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask) -> Iterator[QueryCounter]:
    from sqlalchemy import event

    counter = QueryCounter()
    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)


@pytest.fixture
def logged_in(app: Flask, auth: AuthActions) -> int:
    """Alice, registered and logged in; her user id."""
    assert auth.register("alice").status_code == 303
    assert auth.login("alice").status_code == 303
    from sqlalchemy import select

    from webapp.accounts.models import User

    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username_canon == "alice"))


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix of this test's own in the shared Redis, cleaned up afterwards."""
    import redis

    prefix = f"test-{uuid.uuid4().hex[:10]}"
    yield prefix
    connection = redis.Redis.from_url(REDIS_URL)
    for key in connection.scan_iter(f"*{prefix}*"):
        connection.delete(key)
    connection.close()


@pytest.fixture
def password_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The hashes the app verifies passwords against, in order: watches the real argon2
    verification (which still runs) to count how much hashing a request costs."""
    from argon2 import PasswordHasher

    verified: list[str] = []
    real_verify = PasswordHasher.verify

    def counting_verify(self: PasswordHasher, hash: str, password: str) -> bool:
        verified.append(hash)
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)
    return verified
