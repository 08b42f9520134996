"""Login, logout, sessions that can be revoked, safe redirects and CSRF."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import HTMX
from tests.conftest import PASSWORD
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from webapp.accounts import passwords
from webapp.accounts.models import User
from webapp.accounts.sessions import AUTH_COOKIE
from webapp.accounts.views import BAD_CREDENTIALS
from webapp.core.extensions import db


@pytest.fixture
def alice(auth: AuthActions) -> None:
    assert auth.register("Alice").status_code == 303


def is_logged_in(client: FlaskClient) -> bool:
    return client.get("/").status_code == 200


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("typed", ["Alice", "alice", "ALICE", "ａｌｉｃｅ", " alice "])
def test_username_matched_case_insensitively(
    client: FlaskClient, auth: AuthActions, typed: str
) -> None:
    response = auth.login(typed)
    assert response.status_code == 303
    assert response.location == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Hi, Alice!" in page


@pytest.mark.usefixtures("alice")
def test_one_message_for_unknown_user_and_wrong_password(
    client: FlaskClient, auth: AuthActions
) -> None:
    unknown = auth.login("nobody", PASSWORD)
    wrong = auth.login("alice", PASSWORD + "x")
    assert unknown.status_code == wrong.status_code == 422
    assert BAD_CREDENTIALS in unknown.get_data(as_text=True)
    assert BAD_CREDENTIALS in wrong.get_data(as_text=True)
    assert not is_logged_in(client)


@pytest.mark.usefixtures("alice")
def test_unknown_user_costs_the_same_hash_verification(
    auth: AuthActions, password_checks: list[str]
) -> None:
    verified = password_checks
    auth.login("nobody", PASSWORD)
    unknown_user = list(verified)
    verified.clear()
    auth.login("alice", PASSWORD + "x")
    wrong_password = list(verified)
    assert len(unknown_user) == len(wrong_password) == 1
    # Same algorithm and parameters, so the same work.
    assert unknown_user[0].rsplit("$", 2)[0] == wrong_password[0].rsplit("$", 2)[0]


@pytest.mark.usefixtures("alice")
def test_session_is_cleared_before_logging_in(app: Flask, client: FlaskClient, auth) -> None:
    planted_id = "planted-by-an-attacker"
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    client.set_cookie(AUTH_COOKIE, planted_id)
    auth.login()
    with client.session_transaction() as session:
        assert "planted" not in session
    # Session fixation: the login makes a fresh id of its own, whatever the browser held.
    issued = client.get_cookie(AUTH_COOKIE)
    assert issued is not None and issued.value != planted_id
    assert is_logged_in(client)


@pytest.mark.usefixtures("alice")
def test_remember_me_survives_the_end_of_the_browser_session(
    client: FlaskClient, auth: AuthActions
) -> None:
    response = auth.login(remember_me=True)
    cookie = client.get_cookie(AUTH_COOKIE)
    assert cookie is not None
    assert cookie.http_only
    assert cookie.same_site == "Lax"
    set_cookies = response.headers.getlist("Set-Cookie")
    assert any(c.startswith(f"{AUTH_COOKIE}=") and "Expires=" in c for c in set_cookies)
    client.delete_cookie("session")  # the browser was closed: Flask's own cookie is gone
    assert is_logged_in(client)


@pytest.mark.usefixtures("alice")
def test_without_remember_me_closing_the_browser_logs_out(
    client: FlaskClient, auth: AuthActions
) -> None:
    response = auth.login(remember_me=False)
    [set_cookie] = [
        c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{AUTH_COOKIE}=")
    ]
    # No Expires/Max-Age: a browser cookie, which the browser drops when it closes.
    assert "expires=" not in set_cookie.lower() and "max-age=" not in set_cookie.lower()
    assert is_logged_in(client)
    client.delete_cookie(AUTH_COOKIE)  # what closing the browser does to such a cookie
    assert not is_logged_in(client)


def test_password_is_rehashed_when_parameters_change(
    app: Flask, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    weaker = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    monkeypatch.setattr(passwords, "hasher", weaker)
    auth.register("alice")
    with app.app_context():
        old_hash = db.session.scalar(select(User.password_hash))
    assert "m=8192,t=1" in old_hash
    monkeypatch.undo()
    assert auth.login("alice").status_code == 303
    with app.app_context():
        new_hash = db.session.scalar(select(User.password_hash))
    assert new_hash.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in new_hash
    assert passwords.verify_password(new_hash, PASSWORD)


def test_hash_parameters_meet_owasp() -> None:
    params = passwords.hash_password("whatever passphrase").split("$")
    assert params[1] == "argon2id"
    settings = dict(part.split("=") for part in params[3].split(","))
    assert int(settings["m"]) >= 19456 and int(settings["t"]) >= 2


@pytest.mark.usefixtures("alice")
def test_logged_in_user_visiting_login_goes_to_the_feed(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.login()
    response = client.get("/login")
    assert response.status_code == 302
    assert response.location == "/"


# SECURITY.md's hostile list, plus percent-encoded, tab/newline and invisible variants.
HOSTILE_NEXT = [
    "//evil.com",
    "///evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "https:evil.com",
    "http:127.0.0.2/",
    "https://evil.com/",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "\t//evil.com",
    "/\t/evil.com",
    "/\n/evil.com",
    "/\r\n/evil.com",
    " //evil.com",
    "/.//evil.com",
    "/%2F/evil.com",
    "%2F%2Fevil.com",
    "%2f%2fevil.com",
    "/%5Cevil.com",
    "%5C%5Cevil.com",
    "%09//evil.com",
    "/\u200b/evil.com",
    "/\u2028/evil.com",
    "/\u00a0/evil.com",
    "evil.com",
    "data:text/html,<script>alert(1)</script>",
    "",
]


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hostile_next_lands_on_our_own_pages(
    client: FlaskClient, auth: AuthActions, target: str
) -> None:
    response = auth.login(next_page=target)
    assert response.status_code == 303
    location = response.location
    parts = urlsplit(location)
    assert not parts.scheme and not parts.netloc
    assert location.startswith("/") and not location.startswith("//")
    assert "\\" not in location
    # A browser resolving it against our origin stays on our origin.
    from urllib.parse import urljoin

    assert urlsplit(urljoin("http://localhost/login", location)).netloc == "localhost"


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("target", ["/index", "/user/alice?tab=posts", "/register#x"])
def test_local_next_is_followed(client: FlaskClient, auth: AuthActions, target: str) -> None:
    assert auth.login(next_page=target).location == target


def test_anonymous_visitor_is_sent_to_login_with_next(client: FlaskClient) -> None:
    for path in ("/", "/index"):
        response = client.get(path)
        assert response.status_code == 302
        assert urlsplit(response.location).path == "/login"
        assert f"next={path.replace('/', '%2F')}" in response.location
    page = client.get("/login").get_data(as_text=True)
    assert "Please log in to see this page." in page


def test_anonymous_htmx_request_gets_401_and_hx_redirect(client: FlaskClient) -> None:
    response = client.get("/", headers={**HTMX, "HX-Current-URL": "http://localhost/index"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/login?next=%2Findex"


@pytest.mark.usefixtures("alice")
def test_full_round_trip_back_to_next(client: FlaskClient, auth: AuthActions) -> None:
    location = client.get("/index").location
    next_page = location.split("next=", 1)[1].replace("%2F", "/")
    assert auth.login(next_page=next_page).location == "/index"


# Logout ---------------------------------------------------------------------------------


def test_logout_by_get_is_not_allowed(client: FlaskClient, auth: AuthActions) -> None:
    auth.register()
    auth.login()
    assert client.get("/logout").status_code == 405
    assert is_logged_in(client)


def test_logout_needs_the_csrf_token(client: FlaskClient, auth: AuthActions) -> None:
    auth.register()
    auth.login()
    response = client.post("/logout")
    assert response.status_code == 400
    assert is_logged_in(client)


def test_logout_button_is_in_the_navbar(client: FlaskClient, auth: AuthActions) -> None:
    auth.register()
    auth.login()
    html = client.get("/").get_data(as_text=True)
    assert 'action="/logout"' in html and 'method="post"' in html
    response = auth.logout()
    assert response.status_code == 303
    assert response.location == "/login"
    assert "You have been logged out." in client.get("/login").get_data(as_text=True)
    assert not is_logged_in(client)


@pytest.mark.usefixtures("alice")
def test_flask_session_cookie_alone_authenticates_nobody(app: Flask, auth: AuthActions) -> None:
    """Flask's signed `session` cookie holds only the CSRF token and flashes now: a copy of
    it, even taken while its owner is logged in, logs nobody in."""
    auth.login()
    assert is_logged_in(auth.client)
    stolen = auth.client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert not is_logged_in(thief)


@pytest.mark.usefixtures("alice")
@pytest.mark.parametrize("remember_me", [False, True])
def test_copied_auth_cookie_is_dead_after_logout(
    app: Flask, auth: AuthActions, remember_me: bool
) -> None:
    auth.login(remember_me=remember_me)
    stolen = auth.client.get_cookie(AUTH_COOKIE).value
    # Before logout, the copy does authenticate: the test would pass for the wrong reason
    # otherwise.
    before = app.test_client()
    before.set_cookie(AUTH_COOKIE, stolen)
    assert is_logged_in(before)
    auth.logout()
    thief = app.test_client()
    thief.set_cookie(AUTH_COOKIE, stolen)
    assert not is_logged_in(thief)


@pytest.mark.usefixtures("alice")
def test_logging_in_again_after_logout_works(client: FlaskClient, auth: AuthActions) -> None:
    auth.login()
    auth.logout()
    assert auth.login().status_code == 303
    assert is_logged_in(client)


# CSRF -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/register", {"username": "mallory", "email": "m@example.com", "password": PASSWORD}),
        ("/login", {"username": "alice", "password": PASSWORD}),
    ],
)
def test_forms_refuse_posts_without_the_token(
    app: Flask, client: FlaskClient, alice: None, path: str, data: dict[str, str]
) -> None:
    data = {**data, "confirm_password": PASSWORD}
    response = client.post(path, data=data)
    assert response.status_code == 400
    assert "Reload the page and try again" in response.get_data(as_text=True)
    assert not is_logged_in(client)
    with app.app_context():
        assert db.session.scalar(select(User).where(User.username == "mallory")) is None


def test_htmx_requests_carry_the_token_in_a_header(client: FlaskClient, auth) -> None:
    auth.register()
    auth.login()
    html = client.get("/").get_data(as_text=True)
    token = html.split('hx-headers=\'{"X-CSRFToken": "', 1)[1].split('"', 1)[0]
    # The same token as the page's forms carry. Compared within one page: Flask-WTF signs
    # the token with a timestamp, so two page loads a second apart show different strings.
    assert token == csrf_token_from(html)
    response = client.post("/logout", headers={**HTMX, "X-CSRFToken": token})
    assert response.status_code == 303
    assert not is_logged_in(client)
