"""Security headers on every kind of response, cookies, proxies and trusted hosts."""

from __future__ import annotations

import pytest
from flask import Flask
from flask import request
from flask.testing import FlaskClient

from tests.conftest import HTMX
from tests.conftest import PASSWORD
from tests.conftest import TEST_SECRET_KEY
from tests.conftest import AuthActions
from tests.conftest import csrf_token_from
from tests.conftest import make_app
from tests.conftest import make_user
from webapp.accounts.sessions import AUTH_COOKIE
from webapp.core.extensions import db
from webapp.core.security import CONTENT_SECURITY_POLICY

EVERY_RESPONSE = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def assert_security_headers(response) -> None:
    for name, value in EVERY_RESPONSE.items():
        assert response.headers.get(name) == value, (name, response.status_code)
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_csp_is_strict() -> None:
    directives = dict(part.split(" ", 1) for part in CONTENT_SECURITY_POLICY.split("; "))
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY
    assert directives["object-src"] == "'none'" and directives["base-uri"] == "'none'"
    assert directives["form-action"] == "'self'" and directives["img-src"] == "'self' data:"


def test_headers_on_every_kind_of_response(database_url: str) -> None:
    app = make_app(database_url, PROPAGATE_EXCEPTIONS=False, RATELIMIT_CARDS_PER_USER="1/minute")

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    with app.app_context():
        db.create_all()
    make_user(app, "bob")
    client = app.test_client()
    anonymous = [
        client.get("/login"),  # page
        client.get("/"),  # redirect
        client.get("/static/css/app.css"),  # static file
        client.get("/avatar/bob.svg"),
        client.get("/nowhere"),  # 404 page
        client.get("/boom"),  # 500 page
        client.get("/healthz"),
        client.get("/user/bob/popup", headers=HTMX),  # 401 fragment
    ]
    auth = AuthActions(client)
    auth.register("alice")
    auth.login("alice")
    logged_in = [
        client.get("/"),
        client.get("/", headers=HTMX),  # fragment
        client.get("/user/ghost/popup", headers=HTMX),  # 404 fragment
        client.get("/user/bob/popup", headers=HTMX),  # 429 fragment (the limit is 1)
    ]
    statuses = [r.status_code for r in anonymous + logged_in]
    assert statuses == [200, 302, 200, 200, 404, 500, 200, 401, 200, 200, 404, 429]
    for response in anonymous + logged_in:
        assert_security_headers(response)
        response.close()


def test_authenticated_pages_are_not_stored(client: FlaskClient, auth: AuthActions) -> None:
    auth.register("alice")
    auth.login("alice")
    for path in ("/", "/user/alice", "/settings", "/settings/data.json"):
        cache_control = client.get(path).headers["Cache-Control"]
        assert "no-store" in cache_control and "private" in cache_control
    card = client.get("/user/alice/popup", headers=HTMX).headers["Cache-Control"]
    assert "private" in card and "public" not in card


def test_static_files_are_not_marked_private(client: FlaskClient) -> None:
    with client.get("/static/css/app.css") as response:
        assert "private" not in response.headers.get("Cache-Control", "")


def production_app(database_url: str, **settings) -> Flask:
    """TESTING off: what a deployment runs (a strong key, the PUBLIC_URL production requires,
    Secure cookies)."""
    settings.setdefault("PUBLIC_URL", "https://feed.example.com")
    app = make_app(database_url, TESTING=False, SECRET_KEY=TEST_SECRET_KEY, **settings)
    with app.app_context():
        db.create_all()
    return app


def test_hsts_in_production_over_https_only(database_url: str) -> None:
    app = production_app(database_url)
    assert "Strict-Transport-Security" not in app.test_client().get("/login").headers
    secure = app.test_client().get("/login", base_url="https://localhost")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=63072000")
    development = make_app(database_url, TESTING=False, DEBUG=True)
    response = development.test_client().get("/login", base_url="https://localhost")
    assert "Strict-Transport-Security" not in response.headers


def test_production_cookies_are_secure_httponly_lax(database_url: str) -> None:
    app = production_app(database_url)
    make_user(app, "alice")
    client = app.test_client()
    https = {"base_url": "https://localhost", "headers": {"Referer": "https://localhost/login"}}
    token = csrf_token_from(client.get("/login", **https).get_data(as_text=True))
    data = {"csrf_token": token, "username": "alice", "password": PASSWORD, "remember_me": "y"}
    response = client.post("/login", data=data, **https)
    assert response.status_code == 303
    cookies = {c.split("=", 1)[0]: c for c in response.headers.getlist("Set-Cookie")}
    for name in ("session", AUTH_COOKIE):
        attributes = cookies[name].lower()
        assert "; secure" in attributes and "; httponly" in attributes
        assert "samesite=lax" in attributes
    # How long a remembered session lasts is a server-side rule: tests/accounts/test_sessions.py.


def test_forwarded_headers_need_trusted_proxies(database_url: str) -> None:
    forwarded = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    untrusted = production_app(database_url)
    assert (
        "Strict-Transport-Security"
        not in untrusted.test_client().get("/login", headers=forwarded).headers
    )
    trusted = production_app(database_url, TRUSTED_PROXIES=1)
    seen = []
    trusted.before_request(lambda: seen.append(request.remote_addr))
    response = trusted.test_client().get("/login", headers=forwarded)
    assert "Strict-Transport-Security" in response.headers
    assert seen == ["203.0.113.9"]


@pytest.mark.parametrize(
    ("host", "status"),
    [("feed.example.com", 200), ("evil.example", 400), ("<script>x</script>.example", 400)],
)
def test_trusted_hosts(database_url: str, host: str, status: int) -> None:
    app = production_app(database_url, TRUSTED_HOSTS=["feed.example.com"])
    response = app.test_client().get("/login", headers={"Host": host})
    assert response.status_code == status
    assert "<script>" not in response.get_data(as_text=True)
    assert_security_headers(response)
