"""Hostile input on every form and every route that takes input, on both databases.

Over-long values, NUL and other control characters, invalid UTF-8, wrong types, missing
and duplicated fields, oversized bodies: each gets a form error or a 4xx, never a 5xx, and
nothing stored changes. Hypothesis then posts generated values to every form.
"""

from __future__ import annotations

import io

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from tests.conftest import HTMX
from tests.conftest import PASSWORD
from tests.conftest import AuthActions
from tests.conftest import csrf_token
from tests.conftest import make_app
from tests.conftest import make_user
from webapp.accounts.models import User
from webapp.conversation.models import Post
from webapp.core.extensions import db
from webapp.people.models import follow

# Generous limits: these tests are about input, not throttling.
NO_THROTTLE = {
    "RATELIMIT_LOGIN_PER_ADDRESS": "100000 per minute",
    "RATELIMIT_LOGIN_PER_ACCOUNT": "100000 per minute",
    "RATELIMIT_REGISTER_PER_ADDRESS": "100000 per minute",
    "RATELIMIT_POSTS_PER_USER": "100000 per minute",
    "RATELIMIT_CARDS_PER_USER": "100000 per minute",
}

FORMS = {
    "/register": ["username", "email", "password", "confirm_password"],
    "/login": ["username", "password", "remember_me"],
    "/": ["body"],
    "/settings/profile": ["about_me"],
    "/settings/password": ["current_password", "password", "confirm_password"],
    "/settings/email": ["email", "current_password"],
    "/settings/delete": ["current_password", "username"],
}
#: The forms a logged-in member posts (the others are posted anonymously).
MEMBER_FORMS = {
    "/",
    "/settings/profile",
    "/settings/password",
    "/settings/email",
    "/settings/delete",
}
#: The only forms where arbitrary visible text is valid, so a hostile value may be stored.
FREE_TEXT_FORMS = {"/", "/settings/profile"}
HOSTILE_VALUES = [
    "a" * 30_000,  # far over every field's limit, under MAX_CONTENT_LENGTH
    "\x00",
    "nul\x00inside",
    "\x01\x02\x03\x1b[2J\x7f",
    "\t\r\n",
    "\u202e\u200b\ufeff",
    "\ud7ff\ue000\U0010ffff",
    "😀" * 300,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "%00%ff",
    " ",
    "",
]


def snapshot(app: Flask) -> tuple:
    """Everything stored, to compare before and after."""
    with app.app_context():
        users = db.session.execute(
            select(
                User.id,
                User.username,
                User.email,
                User.password_hash,
                User.about_me,
                User.post_count,
                User.follower_count,
                User.following_count,
                User.email_confirmed_at,
            ).order_by(User.id)
        ).all()
        posts = db.session.execute(select(Post.id, Post.body, Post.user_id).order_by(Post.id)).all()
        follows = db.session.execute(select(follow).order_by(follow.c.follower_id)).all()
        return tuple(users), tuple(posts), tuple(follows)


@pytest.fixture
def hostile_app(database_url: str) -> Flask:
    app = make_app(database_url, **NO_THROTTLE)
    with app.app_context():
        db.create_all()
    make_user(app, "bob", about_me="Bob's about-me")
    return app


@pytest.fixture
def member(hostile_app: Flask) -> FlaskClient:
    """A logged-in client (alice), for the forms behind login."""
    client = hostile_app.test_client()
    auth = AuthActions(client)
    assert auth.register("alice").status_code == 303
    assert auth.login("alice").status_code == 303
    return client


def post_form(client: FlaskClient, path: str, data, **kwargs):
    page = "/login" if path in ("/login", "/register") else "/"
    token = csrf_token(client, page)
    if isinstance(data, dict):
        data = {**data, "csrf_token": token}
    return client.post(path, data=data, headers={"X-CSRFToken": token}, **kwargs)


def assert_refused_without_change(app: Flask, before: tuple, response) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:500]
    if response.status_code not in (200, 303):
        assert snapshot(app) == before


@pytest.mark.parametrize("path", list(FORMS))
@pytest.mark.parametrize("value", HOSTILE_VALUES, ids=range(len(HOSTILE_VALUES)))
def test_hostile_values_in_every_field(
    hostile_app: Flask, member: FlaskClient, path: str, value: str
) -> None:
    client = member if path in MEMBER_FORMS else hostile_app.test_client()
    for field in FORMS[path]:
        before = snapshot(hostile_app)
        data = {name: "ok-value_1" for name in FORMS[path]}
        data[field] = value
        response = post_form(client, path, data)
        assert response.status_code < 500
        if path != "/settings/profile" or response.status_code != 303:
            # Only about-me accepts arbitrary visible text; nothing else here is valid.
            if response.status_code not in (200, 303):
                assert snapshot(hostile_app) == before
    # NUL and other control characters are never stored anywhere.
    stored = repr(snapshot(hostile_app))
    assert "\\x00" not in stored and "\\x1b" not in stored


@pytest.mark.parametrize("path", list(FORMS))
def test_missing_duplicated_and_wrong_typed_fields(
    hostile_app: Flask, member: FlaskClient, path: str
) -> None:
    client = member if path in MEMBER_FORMS else hostile_app.test_client()
    fields = FORMS[path]
    before = snapshot(hostile_app)
    duplicated = MultiDict(
        [(name, "first") for name in fields] + [(name, "second\x00") for name in fields]
    )
    files = {name: (io.BytesIO(b"\x00\xff binary"), "file.bin") for name in fields}
    cases = [({}, {}), ({fields[0]: "only-one"}, {}), (duplicated, {})]
    cases.append((files, {"content_type": "multipart/form-data"}))
    for data, kwargs in cases:
        before = snapshot(hostile_app)
        token = csrf_token(client, "/login" if path in ("/login", "/register") else "/")
        data = MultiDict(data)
        data.add("csrf_token", token)
        response = client.post(path, data=data, **kwargs)
        assert_refused_without_change(hostile_app, before, response)
    # A JSON body where a form is expected.
    before = snapshot(hostile_app)
    token = csrf_token(client, "/login" if path in ("/login", "/register") else "/")
    response = client.post(path, json={f: 1 for f in fields}, headers={"X-CSRFToken": token})
    assert response.status_code < 500
    assert snapshot(hostile_app) == before


@pytest.mark.parametrize("path", list(FORMS))
def test_invalid_utf8(hostile_app: Flask, member: FlaskClient, path: str) -> None:
    client = member if path in MEMBER_FORMS else hostile_app.test_client()
    token = csrf_token(client, "/login" if path in ("/login", "/register") else "/")
    before = snapshot(hostile_app)
    body = b"&".join(f"{name}=".encode() + b"%FF%FE\xc3\x28\xa0\xa1" for name in FORMS[path])
    response = client.post(
        path,
        data=body,
        headers={"X-CSRFToken": token},
        content_type="application/x-www-form-urlencoded",
    )
    assert_refused_without_change(hostile_app, before, response)
    assert response.status_code != 303 or path == "/settings/profile"


@pytest.mark.parametrize("path", [*FORMS, "/user/bob/follow", "/logout"])
def test_oversized_body_is_413(hostile_app: Flask, member: FlaskClient, path: str) -> None:
    before = snapshot(hostile_app)
    limit = hostile_app.config["MAX_CONTENT_LENGTH"]
    token = csrf_token(member, "/")
    data = {"body": "x" * (limit + 1), "username": "alice", "csrf_token": token}
    response = member.post(path, data=data, headers={"X-CSRFToken": token})
    assert response.status_code == 413
    assert "Too much data" in response.get_data(as_text=True)
    assert snapshot(hostile_app) == before


HOSTILE_PATHS = [
    "%00",
    "a%00b",
    "%FF%FE",
    "..%2F..%2Fetc%2Fpasswd",
    "x" * 5000,
    "%E2%80%AE",
    "<script>",
    "'%20OR%201=1",
]


@pytest.mark.parametrize("name", HOSTILE_PATHS)
def test_hostile_names_in_urls(hostile_app: Flask, member: FlaskClient, name: str) -> None:
    before = snapshot(hostile_app)
    token = csrf_token(member, "/")
    for method, url in [
        ("GET", f"/user/{name}"),
        ("GET", f"/user/{name}/popup"),
        ("GET", f"/avatar/{name}.svg"),
        ("POST", f"/user/{name}/follow"),
        ("POST", f"/user/{name}/unfollow"),
    ]:
        response = member.open(url, method=method, headers={**HTMX, "X-CSRFToken": token})
        assert response.status_code < 500, (url, response.status_code)
        if "popup" in url or "follow" in url:
            assert response.status_code == 404
    assert snapshot(hostile_app) == before


@pytest.mark.parametrize(
    "query",
    [
        "before=%00",
        "before=%FF",
        "before=-1_-1",
        "before=1e9_1",
        "before=" + "9" * 400,
        "before=1_1&before=2_2",
        "next=%00",
        "next=%FF%FE",
        "next=" + "/" * 5000,
    ],
)
def test_hostile_query_strings(hostile_app: Flask, member: FlaskClient, query: str) -> None:
    for path in ("/", "/user/bob", "/login"):
        for headers in ({}, HTMX):
            response = member.get(f"{path}?{query}", headers=headers)
            assert response.status_code < 500, (path, query, response.status_code)


# Property-based: generated values into every form ------------------------------------------

TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=400)
FORM_DATA = {
    path: st.fixed_dictionaries({f: TEXT for f in fields}) for path, fields in FORMS.items()
}
HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.mark.parametrize("path", list(FORMS))
def test_generated_values_never_break_a_form(
    hostile_app: Flask, member: FlaskClient, path: str
) -> None:
    client = member if path in MEMBER_FORMS else hostile_app.test_client()

    @HYPOTHESIS
    @given(data=FORM_DATA[path], htmx=st.booleans())
    def check(data: dict[str, str], htmx: bool) -> None:
        before = snapshot(hostile_app)
        token = csrf_token(client, "/login" if path in ("/login", "/register") else "/")
        headers = {**HTMX, "X-CSRFToken": token} if htmx else {"X-CSRFToken": token}
        response = client.post(path, data=data, headers=headers)
        assert response.status_code < 500
        # With htmx, a post and a settings section answer 200 when they are accepted.
        accepted = response.status_code == 303 or (
            path in FREE_TEXT_FORMS and response.status_code == 200
        )
        if not accepted:
            assert snapshot(hostile_app) == before
        stored = repr(snapshot(hostile_app))
        assert "\\x00" not in stored

    check()


def test_nothing_valid_was_lost(hostile_app: Flask, member: FlaskClient) -> None:
    """The fixtures' own rows survive all of the above untouched."""
    with hostile_app.app_context():
        bob = db.session.scalar(select(User).where(User.username_canon == "bob"))
        assert bob.about_me == "Bob's about-me" and PASSWORD
