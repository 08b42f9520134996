"""Hardening: malformed Referers, redirects that never name the request's host, and text that
refuses bidi overrides and invisible characters."""

from __future__ import annotations

import logging
import unicodedata

import pytest
from flask import Flask
from flask import redirect
from flask import url_for
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import HTMX
from tests.conftest import PASSWORD
from tests.conftest import AuthActions
from tests.conftest import csrf_token
from tests.conftest import make_app
from tests.conftest import make_user
from webapp.accounts.models import User
from webapp.conversation.models import Post
from webapp.core.extensions import db
from webapp.core.redirects import UNTRUSTED_HOSTS_WARNING
from webapp.core.redirects import without_own_host
from webapp.core.textrules import invisible_character_problem

# Malformed Referer on HTTPS ------------------------------------------------------------------

HTTPS = "https://localhost"
FRIENDLY_400 = "The form was out of date or incomplete."
# A port that is not a number, one out of range, and an IPv6 host left open: each made
# Flask-WTF's same-origin check raise ValueError (a 500).
MALFORMED_REFERERS = ["https://localhost:x/", "https://localhost:99999/", "https://[/"]


def stored_bodies(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Post.body).order_by(Post.id)))


def https_login(client: FlaskClient, referer: str):
    token = csrf_token(client, "/login")
    return client.post(
        "/login",
        base_url=HTTPS,
        headers={"Referer": referer},
        data={"csrf_token": token, "username": "alice", "password": PASSWORD},
    )


def https_comment(client: FlaskClient, referer: str, body: str, htmx: bool = False):
    token = csrf_token(client, "/")
    headers = {"Referer": referer, **(HTMX if htmx else {})}
    return client.post(
        "/", base_url=HTTPS, headers=headers, data={"csrf_token": token, "body": body}
    )


@pytest.mark.parametrize("referer", MALFORMED_REFERERS)
def test_malformed_referer_on_anonymous_https_post_is_a_friendly_400(
    client: FlaskClient, auth: AuthActions, referer: str
) -> None:
    auth.register("alice")
    response = https_login(client, referer)
    assert response.status_code == 400
    assert FRIENDLY_400 in response.get_data(as_text=True)
    assert "<html" in response.get_data(as_text=True).lower()  # the full error page
    # Not logged in by the refused request.
    assert client.get("/").status_code == 302


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("referer", MALFORMED_REFERERS)
def test_malformed_referer_on_logged_in_https_post_is_a_friendly_400(
    app: Flask, client: FlaskClient, referer: str, htmx: bool
) -> None:
    response = https_comment(client, referer, "refused", htmx=htmx)
    assert response.status_code == 400
    assert FRIENDLY_400 in response.get_data(as_text=True)
    assert stored_bodies(app) == []


def test_good_referer_on_https_still_logs_in(client: FlaskClient, auth: AuthActions) -> None:
    auth.register("alice")
    response = https_login(client, f"{HTTPS}/login")
    assert response.status_code == 303
    assert client.get("/").status_code == 200


@pytest.mark.usefixtures("logged_in")
def test_good_referer_on_https_still_posts(app: Flask, client: FlaskClient) -> None:
    response = https_comment(client, f"{HTTPS}/", "hello over https")
    assert response.status_code == 303
    assert stored_bodies(app) == ["hello over https"]


@pytest.mark.usefixtures("logged_in")
def test_foreign_referer_on_https_is_still_refused(app: Flask, client: FlaskClient) -> None:
    # The check in front of Flask-WTF's must not replace it: a well-formed foreign origin
    # is still refused by the CSRF check itself.
    response = https_comment(client, "https://evil.example/", "refused")
    assert response.status_code == 400 and FRIENDLY_400 in response.get_data(as_text=True)
    assert stored_bodies(app) == []


# Redirects never name the request's host --------------------------------------------------

EVIL_HOST = "evil.com"
ODD_PATHS = [
    "//user//demo",
    "//",
    "//login",
    "/user/x/",
    "//static//css/app.css",
    "/index/",
    "//index",
    "/user/demo/",
    "/user//demo/popup",
    "//avatar//demo.svg",
    "///evil.com/",
]


def get_raw(client: FlaskClient, path: str, host: str = EVIL_HOST):
    """GET `path` exactly as sent: the test client would read `//user` as a host name."""
    return client.get("/", headers={"Host": host}, environ_overrides={"PATH_INFO": path})


def location(response) -> str:
    return response.headers.get("Location") or ""


@pytest.mark.parametrize("who", ["anonymous", "logged_in"])
def test_merged_slashes_do_not_redirect_to_the_request_host(
    app: Flask, client: FlaskClient, auth: AuthActions, who: str
) -> None:
    make_user(app, "demo")
    if who == "logged_in":
        auth.register("alice")
        auth.login("alice")
    response = get_raw(client, "//user//demo")
    assert response.status_code < 500
    assert EVIL_HOST not in location(response)
    # Not redirected to the merged path at all: slash merging is off.
    assert response.status_code != 308


@pytest.mark.parametrize("who", ["anonymous", "logged_in"])
def test_odd_paths_never_redirect_to_the_injected_host(
    app: Flask, client: FlaskClient, auth: AuthActions, who: str
) -> None:
    make_user(app, "demo")
    if who == "logged_in":
        auth.register("alice")
        auth.login("alice")
    for path in ODD_PATHS:
        response = get_raw(client, path)
        assert response.status_code < 500, path
        assert EVIL_HOST not in location(response), (path, response.headers)


def test_absolute_redirects_to_the_request_host_are_made_relative(app: Flask) -> None:
    # Routes of the kinds that build absolute URLs from the Host header: Werkzeug's
    # strict-slashes redirect and an explicit external url_for.
    app.add_url_rule("/folder/", "folder", lambda: "folder")
    app.add_url_rule(
        "/external", "external", lambda: redirect(url_for("folder", q="1", _external=True))
    )
    app.add_url_rule("/elsewhere", "elsewhere", lambda: redirect("https://example.org/x"))
    client = app.test_client()

    slash = client.get("/folder", headers={"Host": EVIL_HOST})
    assert slash.status_code == 308 and slash.headers["Location"] == "/folder/"
    external = client.get("/external", headers={"Host": EVIL_HOST})
    assert external.status_code == 302 and external.headers["Location"] == "/folder/?q=1"
    # Another host on purpose is left alone.
    elsewhere = client.get("/elsewhere", headers={"Host": EVIL_HOST})
    assert elsewhere.headers["Location"] == "https://example.org/x"


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        ("http://evil.com/user/demo", "/user/demo"),
        ("http://EVIL.com/a?b=1#c", "/a?b=1#c"),
        ("//evil.com/a", "/a"),
        ("http://evil.com", "/"),
        # Made relative, a path of `//x` would name a host of its own.
        ("http://evil.com//other.example/x", "/other.example/x"),
        ("http://evil.com/\\other.example/x", "/other.example/x"),
        # Not the request's host, or a change of scheme: kept.
        ("https://example.org/x", "https://example.org/x"),
        ("http://evil.com:8080/x", "http://evil.com:8080/x"),
        ("https://evil.com/x", "https://evil.com/x"),
        ("/already/relative", "/already/relative"),
        ("http://[/", "http://[/"),
    ],
)
def test_without_own_host(location: str, expected: str) -> None:
    assert without_own_host(location, "evil.com", "http") == expected


# What a production start needs besides the (test) SECRET_KEY make_app already passes.
PRODUCTION = {"PUBLIC_URL": "https://feed.example.com"}


@pytest.fixture
def production_logs(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> pytest.LogCaptureFixture:
    for name in ("FLASK_DEBUG", "FLASK_TESTING", "TRUSTED_HOSTS", "FLASK_TRUSTED_HOSTS"):
        monkeypatch.delenv(name, raising=False)
    caplog.set_level(logging.WARNING)
    return caplog


def test_production_warns_when_trusted_hosts_is_unset(
    database_url: str, production_logs: pytest.LogCaptureFixture
) -> None:
    app = make_app(database_url, TESTING=False, TRUSTED_HOSTS=None, **PRODUCTION)
    assert not app.testing and not app.debug
    assert UNTRUSTED_HOSTS_WARNING in production_logs.messages
    assert "Host header" in UNTRUSTED_HOSTS_WARNING and "TRUSTED_HOSTS" in UNTRUSTED_HOSTS_WARNING


def test_production_is_quiet_when_trusted_hosts_is_set(
    database_url: str, production_logs: pytest.LogCaptureFixture
) -> None:
    make_app(database_url, TESTING=False, TRUSTED_HOSTS=["feed.example.com"], **PRODUCTION)
    assert UNTRUSTED_HOSTS_WARNING not in production_logs.messages


def test_tests_and_development_do_not_warn(
    database_url: str, production_logs: pytest.LogCaptureFixture
) -> None:
    make_app(database_url, TRUSTED_HOSTS=None)
    make_app(database_url, TESTING=False, DEBUG=True, TRUSTED_HOSTS=None, **PRODUCTION)
    assert UNTRUSTED_HOSTS_WARNING not in production_logs.messages


# Invisible and text-direction characters --------------------------------------------------

REFUSED_CODE_POINTS = [
    *range(0x202A, 0x202F),
    *range(0x2066, 0x206A),
    *range(0x200B, 0x2010),
    0x2028,
    0x2029,
    0xFEFF,
    0x3164,
    0x115F,
    0x1160,
]
ACCEPTED_TEXTS = [
    "Café, naïve, Zoë, Ångström, façade",
    "Emoji 😀🎉👍🏽 and a flag 🇫🇷",  # skin tone and flag: no joiner involved
    "Keycap 1️⃣ and a heart ❤️",  # U+FE0F (variation selector) is not refused
    "Right to left, written naturally: שלום, مرحبا",
    "日本語、한국어, Ελληνικά, Русский",
    "“Curly quotes” – dashes — and ellipses…",
]


def refusal(code_point: int) -> str:
    name = unicodedata.name(chr(code_point))
    return f"Remove the invisible or text-direction character U+{code_point:04X} ({name})."


def post_comment(client: FlaskClient, body: str, htmx: bool):
    token = csrf_token(client, "/")
    headers = {**HTMX, "X-CSRFToken": token} if htmx else {}
    data = {"body": body} if htmx else {"body": body, "csrf_token": token}
    return client.post("/", data=data, headers=headers)


def save_about_me(client: FlaskClient, about_me: str):
    """POST /edit_profile; when it answers 307 (the form has moved), post the same data
    again where it says, as a browser would: 303 when saved, 422 when refused."""
    token = csrf_token(client, "/")  # one token per session: the feed's form has it
    data = {"csrf_token": token, "about_me": about_me}
    response = client.post("/edit_profile", data=data)
    if response.status_code == 307:
        response = client.post(response.headers["Location"], data=data)
    return response


def about_me_of(app: Flask, user_id: int) -> str:
    with app.app_context():
        return db.session.get(User, user_id).about_me


def test_the_refused_set_is_exactly_the_listed_code_points() -> None:
    refused = {cp for cp in range(0x110000) if invisible_character_problem(chr(cp)) is not None}
    assert refused == set(REFUSED_CODE_POINTS)


def test_the_message_names_the_character() -> None:
    assert invisible_character_problem("abc\u202edef") == (
        "Remove the invisible or text-direction character U+202E (RIGHT-TO-LEFT OVERRIDE)."
    )
    assert invisible_character_problem("plain text") is None


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize("code_point", REFUSED_CODE_POINTS, ids=lambda cp: f"U+{cp:04X}")
def test_comment_refuses_invisible_characters(
    app: Flask, client: FlaskClient, code_point: int
) -> None:
    body = f"look{chr(code_point)}here"
    for htmx in (True, False):
        response = post_comment(client, body, htmx=htmx)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert refusal(code_point) in html
        # htmx gets the form alone; a plain post gets the whole feed page around it.
        assert ("<html" in html.lower()) is not htmx
    assert stored_bodies(app) == []


@pytest.mark.parametrize("code_point", REFUSED_CODE_POINTS, ids=lambda cp: f"U+{cp:04X}")
def test_about_me_refuses_invisible_characters(
    app: Flask, client: FlaskClient, logged_in: int, code_point: int
) -> None:
    response = save_about_me(client, f"about{chr(code_point)}me")
    assert response.status_code == 422
    assert refusal(code_point) in response.get_data(as_text=True)
    assert about_me_of(app, logged_in) == ""


def test_zwj_emoji_are_refused(app: Flask, client: FlaskClient, logged_in: int) -> None:
    # 👩‍💻 is WOMAN + U+200D ZERO WIDTH JOINER + LAPTOP: the refused range 200B-200F
    # includes the joiner, so joined emoji sequences are refused, as the rule demands.
    response = post_comment(client, "at work 👩\u200d💻", htmx=True)
    assert response.status_code == 422 and refusal(0x200D) in response.get_data(as_text=True)
    assert save_about_me(client, "👩\u200d💻").status_code == 422
    assert stored_bodies(app) == [] and about_me_of(app, logged_in) == ""


@pytest.mark.parametrize("text", ACCEPTED_TEXTS)
def test_ordinary_text_and_emoji_are_accepted(
    app: Flask, client: FlaskClient, logged_in: int, text: str
) -> None:
    assert post_comment(client, text, htmx=True).status_code == 200
    # Another text: the same one again within 5 seconds would be a double post, stored once.
    assert post_comment(client, f"{text} (2)", htmx=False).status_code == 303
    assert stored_bodies(app) == [text, f"{text} (2)"]
    assert save_about_me(client, text).status_code == 303
    assert about_me_of(app, logged_in) == text
