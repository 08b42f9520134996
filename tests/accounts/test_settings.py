"""The settings page: login required, each section's form with htmx (the section alone) and
without JavaScript (POST, redirect, GET), errors inline, changing the password, and the
"Your data" download."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.conftest import HTMX
from tests.conftest import PASSWORD
from tests.conftest import AuthActions
from tests.conftest import QueryCounter
from tests.conftest import add_posts
from tests.conftest import csrf_token
from tests.conftest import make_app
from tests.conftest import make_user
from tests.servers import free_port
from tests.smtp import SMTPServer
from webapp.accounts.models import User
from webapp.accounts.models import UserSession
from webapp.accounts.passwords import verify_password
from webapp.accounts.sessions import AUTH_COOKIE
from webapp.core.extensions import db
from webapp.core.mail import MailNotSent
from webapp.people.follows import follow

NEW_PASSWORD = "a brand new passphrase, much longer"
MAIL_PROBLEM = MailNotSent.USER_MESSAGE  # "We could not send the e-mail; please try again later."


def is_logged_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


def log_in(app: Flask, username: str = "alice", password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    assert AuthActions(client).login(username, password).status_code == 303
    return client


def post_settings(client: FlaskClient, path: str, data: dict[str, str], htmx: bool) -> TestResponse:
    token = csrf_token(client, "/settings")
    headers = {**HTMX, "X-CSRFToken": token} if htmx else {}
    return client.post(path, data={"csrf_token": token, **data}, headers=headers)


def assert_section_alone(response: TestResponse, section: str) -> str:
    """The htmx answer is that section and nothing of the page around it."""
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section class="card-panel settings-section'), html[:200]
    assert f'id="{section}"' in html
    assert "<html" not in html and "<nav" not in html
    assert html.count("<section") == 1
    return html


def session_of(app: Flask, client: FlaskClient) -> UserSession:
    digest = hashlib.sha256(client.get_cookie(AUTH_COOKIE).value.encode()).hexdigest()
    with app.app_context():
        row = db.session.scalar(select(UserSession).where(UserSession.token_hash == digest))
        db.session.expunge(row)
        return row


def stored_user(app: Flask, username: str = "alice") -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username_canon == username))
        db.session.expunge(user)
        return user


def password_change(password: str = NEW_PASSWORD, current: str = PASSWORD) -> dict[str, str]:
    return {"current_password": current, "password": password, "confirm_password": password}


def mail_app(database_url: str, **mail_settings) -> Flask:
    app = make_app(database_url, **mail_settings)
    with app.app_context():
        db.create_all()
    make_user(app, "alice")
    return app


@pytest.fixture
def alice(app: Flask) -> int:
    return make_user(app, "alice")


@pytest.fixture
def member(app: Flask, alice: int) -> FlaskClient:
    """Alice's browser, logged in."""
    return log_in(app)


# Access ---------------------------------------------------------------------------------------


def test_settings_needs_a_login(client: FlaskClient) -> None:
    response = client.get("/settings")
    assert response.status_code == 302
    assert response.location == "/login?next=%2Fsettings"
    current = {**HTMX, "HX-Current-URL": "http://localhost/settings"}
    fragment = client.get("/settings", headers=current)
    assert fragment.status_code == 401
    assert fragment.headers["HX-Redirect"] == "/login?next=%2Fsettings"
    assert client.get("/settings/data.json").status_code == 302
    token = csrf_token(client, "/login")
    for path in ("/settings/profile", "/settings/password", "/settings/email"):
        response = client.post(path, data={"csrf_token": token}, headers=HTMX)
        assert response.status_code == 401 and "HX-Redirect" in response.headers


def test_the_header_links_to_settings(client: FlaskClient, member: FlaskClient) -> None:
    assert 'href="/settings"' in member.get("/").get_data(as_text=True)
    assert 'href="/settings"' not in client.get("/login").get_data(as_text=True)


def test_the_page_has_every_section(member: FlaskClient) -> None:
    html = member.get("/settings").get_data(as_text=True)
    for section in ("profile", "cards", "password", "email", "sessions", "data", "delete"):
        assert f'id="{section}"' in html
        assert f'href="#{section}"' in html


def test_every_label_names_its_own_input(member: FlaskClient) -> None:
    """Three sections ask for the current password and two sections are called "password"
    and "email": a label must still point at exactly one input, its own."""
    html = member.get("/settings").get_data(as_text=True)
    ids = re.findall(r'<(\w+)[^>]*\sid="([^"]+)"', html)
    targets = re.findall(r'<label for="([^"]+)"', html)
    assert len(targets) >= 8
    for target in targets:
        tags = [tag for tag, element_id in ids if element_id == target]
        assert tags in (["input"], ["textarea"]), (target, tags)
    # The same after an htmx answer with errors: the messages belong to the right input.
    data = {"current_password": "not it", "username": "alice"}
    response = post_settings(member, "/settings/delete", data, htmx=True)
    assert response.status_code == 422
    section = assert_section_alone(response, "delete")
    assert 'aria-describedby="delete-current_password-errors"' in section


# Every section's form, with and without htmx --------------------------------------------------

SECTION_FORMS = [
    # (section, path, form data, what the section says after success)
    ("profile", "/settings/profile", {"about_me": "Tea and hover cards"}, "Your profile is saved."),
    ("cards", "/settings/cards", {}, "Profile cards are off"),  # an unticked box is not sent
    ("cards", "/settings/cards", {"show_hovercards": "y"}, "Profile cards are on."),
    ("password", "/settings/password", password_change(), "Your password is changed."),
    (
        "email",
        "/settings/email",
        {"email": "alice.new@example.com", "current_password": PASSWORD},
        "We have sent a link to alice.new@example.com.",
    ),
    (
        "email",
        "/settings/email/confirmation",
        {},
        "We have sent a confirmation link to alice@example.com.",
    ),
    ("sessions", "/settings/sessions/end-others", {}, "0 other sessions logged out."),
]


@pytest.mark.parametrize(("section", "path", "data", "notice"), SECTION_FORMS)
def test_each_section_with_htmx_answers_with_the_section_alone(
    member: FlaskClient, section: str, path: str, data: dict[str, str], notice: str
) -> None:
    response = post_settings(member, path, data, htmx=True)
    assert response.status_code == 200
    html = assert_section_alone(response, section)
    assert notice in html
    assert is_logged_in(member)


@pytest.mark.parametrize(("section", "path", "data", "notice"), SECTION_FORMS)
def test_each_section_without_javascript_redirects_back_to_it(
    member: FlaskClient, section: str, path: str, data: dict[str, str], notice: str
) -> None:
    response = post_settings(member, path, data, htmx=False)
    assert response.status_code == 303
    assert response.location == f"/settings#{section}"
    page = member.get("/settings").get_data(as_text=True)
    assert notice in page and "<html" in page


def test_the_profile_section_stores_the_text(app: Flask, alice: int, member: FlaskClient) -> None:
    html = assert_section_alone(
        post_settings(member, "/settings/profile", {"about_me": "  Tea <b>&</b>  "}, htmx=True),
        "profile",
    )
    assert stored_user(app).about_me == "Tea <b>&</b>"
    assert "Tea &lt;b&gt;&amp;&lt;/b&gt;" in html  # shown back in the form, escaped


# Profile cards ------------------------------------------------------------------------------

CARD_MARKERS = ("data-hovercard", 'hx-get="/user/', "aria-haspopup")


def name_links(html: str) -> list[str]:
    """Every username link in the comments of a page or fragment."""
    return re.findall(r'<a class="user-link"[^>]*>', html)


def checkbox(html: str) -> str:
    """The profile-card switch's <input> tag."""
    return re.search(r'<input[^>]*id="show_hovercards"[^>]*>', html).group(0)


@pytest.mark.parametrize("htmx", [True, False])
def test_the_cards_switch_is_stored_and_decides_how_names_link(
    app: Flask, alice: int, member: FlaskClient, htmx: bool
) -> None:
    add_posts(app, make_user(app, "bob"), ["bob's comment"])
    assert stored_user(app).show_hovercards  # on, until its owner says otherwise
    post_settings(member, "/settings/cards", {}, htmx=htmx)
    assert not stored_user(app).show_hovercards
    assert "checked" not in checkbox(member.get("/settings").get_data(as_text=True))
    token = csrf_token(member, "/")
    posted = member.post("/", data={"body": "mine"}, headers={**HTMX, "X-CSRFToken": token})
    pages = [
        member.get("/").get_data(as_text=True),
        member.get("/user/bob").get_data(as_text=True),
        posted.get_data(as_text=True),
    ]
    for html in pages:
        links = name_links(html)
        assert links, html[:300]
        # A plain link to the profile: no card marker, no htmx, so nothing to fetch a card.
        assert all(marker not in link for link in links for marker in CARD_MARKERS), links
        assert all(" hx-" not in link for link in links), links

    post_settings(member, "/settings/cards", {"show_hovercards": "y"}, htmx=htmx)
    assert stored_user(app).show_hovercards
    assert "checked" in checkbox(member.get("/settings").get_data(as_text=True))
    links = name_links(member.get("/").get_data(as_text=True))
    assert links and all('hx-trigger="hovercard:intent, focus"' in link for link in links)


def test_the_cards_switch_needs_the_csrf_token(app: Flask, alice: int, member: FlaskClient) -> None:
    assert member.post("/settings/cards", data={}).status_code == 400
    assert member.post("/settings/cards", data={}, headers=HTMX).status_code == 400
    assert stored_user(app).show_hovercards


def test_the_feed_costs_the_same_with_cards_on_or_off(
    app: Flask, alice: int, member: FlaskClient, count_queries: QueryCounter
) -> None:
    """The switch comes with the user the session loads: reading it is no extra statement."""
    add_posts(app, make_user(app, "bob"), [f"comment {n}" for n in range(5)])
    member.get("/")  # "last seen" is recorded here, not during the measurement
    measured = {}
    for on in (True, False):
        post_settings(member, "/settings/cards", {"show_hovercards": "y"} if on else {}, True)
        for path in ("/", "/user/bob"):
            count_queries.statements.clear()
            assert member.get(path).status_code == 200
            measured[on, path] = count_queries.count
    assert measured[True, "/"] == measured[False, "/"]
    assert measured[True, "/user/bob"] == measured[False, "/user/bob"]


# Errors: inline with htmx, the whole page without ------------------------------------------

SECTION_ERRORS = [
    ("profile", "/settings/profile", {"about_me": "x" * 281}, "280"),
    ("profile", "/settings/profile", {"about_me": "nul\x00"}, "control characters"),
    ("password", "/settings/password", password_change(current="wrong password!"), "not your"),
    ("password", "/settings/password", password_change("short1!"), "at least 8 characters"),
    (
        "password",
        "/settings/password",
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm_password": "other"},
        "The passwords do not match.",
    ),
    ("email", "/settings/email", {"email": "nope", "current_password": PASSWORD}, "@-sign"),
    (
        "email",
        "/settings/email",
        {"email": "alice.new@example.com", "current_password": "wrong password!"},
        "not your current password",
    ),
    (
        "email",
        "/settings/email",
        {"email": "ALICE@example.com", "current_password": PASSWORD},
        "That is your address already.",
    ),
]


@pytest.mark.parametrize(("section", "path", "data", "message"), SECTION_ERRORS)
@pytest.mark.parametrize("htmx", [True, False])
def test_errors_are_shown_in_the_section_with_422(
    app: Flask,
    member: FlaskClient,
    section: str,
    path: str,
    data: dict[str, str],
    message: str,
    htmx: bool,
) -> None:
    before = stored_user(app)
    response = post_settings(member, path, data, htmx=htmx)
    assert response.status_code == 422
    if htmx:
        html = assert_section_alone(response, section)
    else:
        html = response.get_data(as_text=True)
        assert "<html" in html and 'id="profile"' in html and 'id="delete"' in html
    assert message in html
    after = stored_user(app)
    assert (after.password_hash, after.about_me, after.email) == (
        before.password_hash,
        before.about_me,
        before.email,
    )


# Changing the password ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1!", "at least 8 characters"),
        ("password", "too common"),
        ("qwertyuiop", "too common"),
        ("x" * 1025, "at most 1024 characters"),
    ],
)
def test_the_new_password_follows_the_registration_rules(
    app: Flask, member: FlaskClient, password: str, message: str
) -> None:
    before = stored_user(app).password_hash
    response = post_settings(member, "/settings/password", password_change(password), htmx=True)
    assert response.status_code == 422
    assert message in assert_section_alone(response, "password")
    assert stored_user(app).password_hash == before


def test_a_wrong_current_password_changes_nothing(app: Flask, member: FlaskClient) -> None:
    other = log_in(app)
    before = stored_user(app).password_hash
    response = post_settings(
        member, "/settings/password", password_change(current=PASSWORD + "x"), htmx=True
    )
    assert response.status_code == 422
    assert "That is not your current password." in assert_section_alone(response, "password")
    assert stored_user(app).password_hash == before
    assert is_logged_in(other)  # no session ended either


@pytest.mark.parametrize("htmx", [True, False])
def test_changing_the_password_keeps_this_session_ends_the_others_and_sends_a_notice(
    database_url: str, smtp_server: SMTPServer, htmx: bool
) -> None:
    app = mail_app(database_url, **smtp_server.config())
    laptop, phone, tablet = log_in(app), log_in(app), log_in(app)
    make_user(app, "bob")
    bob = log_in(app, "bob")
    response = post_settings(laptop, "/settings/password", password_change(), htmx=htmx)
    if htmx:
        assert response.status_code == 200
        html = assert_section_alone(response, "password")
    else:
        assert response.status_code == 303 and response.location == "/settings#password"
        html = laptop.get("/settings").get_data(as_text=True)
    assert "Your password is changed. 2 other sessions ended." in html
    assert MAIL_PROBLEM not in html
    assert is_logged_in(laptop)
    assert not is_logged_in(phone) and not is_logged_in(tablet)
    assert is_logged_in(bob)
    assert verify_password(stored_user(app).password_hash, NEW_PASSWORD)
    # The new password logs in; the old one no longer does.
    assert AuthActions(app.test_client()).login("alice", PASSWORD).status_code == 422
    log_in(app, password=NEW_PASSWORD)
    [notice] = smtp_server.wait_for(1)
    assert notice["To"] == "alice@example.com"
    assert notice["Subject"] == "Your password was changed"
    text = notice.get_body(("plain",)).get_content()
    assert "other sessions were ended" in text
    assert NEW_PASSWORD not in notice.as_string()


@pytest.mark.parametrize("htmx", [True, False])
def test_with_the_mail_server_down_the_password_still_changes(
    database_url: str, htmx: bool
) -> None:
    # Nothing listens on this port: the connection is refused, as when the server is down.
    app = mail_app(
        database_url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=free_port(),
        MAIL_USE_TLS=False,
        MAIL_USE_SSL=False,
        MAIL_TIMEOUT=5.0,
    )
    laptop, phone = log_in(app), log_in(app)
    response = post_settings(laptop, "/settings/password", password_change(), htmx=htmx)
    assert response.status_code < 500
    if htmx:
        assert response.status_code == 200
        html = assert_section_alone(response, "password")
    else:
        assert response.status_code == 303
        page = laptop.get(response.location)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
    assert "Your password is changed." in html
    assert MAIL_PROBLEM in html
    assert verify_password(stored_user(app).password_hash, NEW_PASSWORD)
    assert is_logged_in(laptop) and not is_logged_in(phone)


# Your data --------------------------------------------------------------------------------


def test_your_data_is_a_json_attachment(app: Flask, alice: int) -> None:
    bob, carol = make_user(app, "bob"), make_user(app, "carol")
    add_posts(app, alice, ["first comment", "second <comment>"])
    add_posts(app, bob, ["bob's comment"])
    with app.app_context():
        follow(alice, bob)
        follow(carol, alice)
    laptop, phone = log_in(app), log_in(app)
    response = laptop.get("/settings/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert (
        disposition.startswith("attachment;") and 'filename="hoverfeed-alice.json"' in disposition
    )
    assert "no-store" in response.headers["Cache-Control"]
    text = response.get_data(as_text=True)
    data = json.loads(text)

    profile = data["profile"]
    assert profile["username"] == "alice" and profile["email"] == "alice@example.com"
    assert profile["email_confirmed_at"] is None
    assert profile["show_hovercards"] is True
    user = stored_user(app)
    with app.app_context():
        token_hashes = list(db.session.scalars(select(UserSession.token_hash)))
    # No secret in it: not the password hash, not a session's token hash.
    assert not any("password" in key for key in profile)
    for secret in [user.password_hash, "$argon2", *token_hashes]:
        assert secret not in text

    assert [c["body"] for c in data["comments"]] == ["first comment", "second <comment>"]
    assert data["following"] == ["bob"]
    assert data["followers"] == ["carol"]
    sessions = data["sessions"]
    assert len(sessions) == 2
    assert [s["this_device"] for s in sessions].count(True) == 1
    # "This device" is the browser that asked, seen from either of them.
    phone_view = json.loads(phone.get("/settings/data.json").get_data(as_text=True))
    for client, view in ((laptop, sessions), (phone, phone_view["sessions"])):
        [this_device] = [s for s in view if s["this_device"]]
        assert this_device["created_at"] == session_of(app, client).created_at.isoformat()


def test_the_data_section_links_to_the_download(member: FlaskClient) -> None:
    html = member.get("/settings").get_data(as_text=True)
    assert 'href="/settings/data.json"' in html
