"""Deployment: two instances behave as one site; an unreachable database is a friendly 503."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask

from tests.conftest import PASSWORD
from tests.conftest import REDIS_URL
from tests.conftest import make_app
from tests.conftest import make_user
from tests.servers import Browserless
from tests.servers import gunicorn
from tests.servers import site_environment
from webapp.accounts.sessions import AUTH_COOKIE
from webapp.core.config import ROOT


def test_two_instances_are_one_site(
    app: Flask, database_url: str, redis_prefix: str, tmp_path: Path
) -> None:
    make_user(app, "alice")
    make_user(app, "bob")
    env = site_environment(
        database_url,
        RATELIMIT_STORAGE_URI=REDIS_URL,
        RATELIMIT_KEY_PREFIX=redis_prefix,
        FLASK_RATELIMIT_LOGIN_PER_ACCOUNT="3 per 15 minutes",
    )
    with gunicorn(tmp_path, env, workers=2) as one, gunicorn(tmp_path, env, workers=2) as two:
        alice = Browserless(one.url)
        assert alice.login("alice", PASSWORD) == 303
        # The session cookie made by one instance is good on the other.
        alice.base_url = two.url
        status, page, _ = alice.get("/")
        assert status == 200 and "Hi, alice!" in page
        # A comment posted through one is in the other's feed.
        alice.base_url = one.url
        assert alice.post_htmx("/", {"body": "posted on instance one"})[0] == 200
        bob = Browserless(two.url)
        assert bob.login("bob", PASSWORD) == 303
        assert "posted on instance one" in bob.get("/")[1]
        # Logging out on one ends the session on both.
        alice.base_url = two.url
        assert alice.post_form("/logout", {}, page="/")[0] == 303
        alice.base_url = one.url
        assert alice.get("/")[0] == 302
        # Failed logins count across both instances.
        mallory = Browserless(one.url)
        statuses = []
        for n in range(5):
            mallory.base_url = (one.url, two.url)[n % 2]
            statuses.append(mallory.login("bob", "not the password"))
        assert statuses == [422, 422, 422, 429, 429]


def test_unreachable_database_gives_503_and_a_friendly_page(tmp_path: Path) -> None:
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"
    app = make_app(unreachable)
    client = app.test_client()
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["database"] == "unreachable"
    # A logged-in visitor: loading their session and user needs the database.
    client.set_cookie(AUTH_COOKIE, "a-session-id")
    page = client.get("/")
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert "The database is not answering. Please try again shortly." in html
    assert "Traceback" not in html and "psycopg" not in html and "<html" in html
    fragment = client.get("/user/bob/popup", headers={"HX-Request": "true"})
    assert fragment.status_code == 503 and "<html" not in fragment.get_data(as_text=True)


def test_sqlite_file_that_cannot_be_opened_is_a_503(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir' / 'db.sqlite3'}")
    client = app.test_client()
    assert client.get("/healthz").status_code == 503
    client.set_cookie(AUTH_COOKIE, "a-session-id")  # logged in: the page needs the database
    assert client.get("/").status_code == 503


def test_gunicorns_master_compiles_the_templates_and_freezes_the_heap_before_forking(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gunicorn.conf.py's when_ready, which gunicorn runs in the master after building the
    preloaded app and before forking workers: every template compiled (a recycled worker
    then serves at once), and the app's objects frozen out of the collector's walks (a
    worker's first collection no longer copies every page it shares with the master)."""
    settings = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    frozen: list[bool] = []
    monkeypatch.setattr(gc, "freeze", lambda: frozen.append(True))
    loads: list[str] = []
    loader = app.jinja_env.loader
    original = loader.get_source

    def counting(environment, name):  # noqa: ANN001, ANN202 (Jinja's loader signature)
        loads.append(name)
        return original(environment, name)

    monkeypatch.setattr(loader, "get_source", counting)

    server = SimpleNamespace(app=SimpleNamespace(wsgi=lambda: app))
    settings["when_ready"](server)

    names = app.jinja_env.list_templates()
    assert {"people/_card.html", "conversation/index.html", "base.html"} <= set(names)
    assert sorted(set(loads)) == sorted(names)
    assert frozen == [True]
    # Compiled once: rendering reads no template source again.
    loads.clear()
    with app.test_request_context():
        app.jinja_env.get_template("people/_card.html")
        app.jinja_env.get_template("conversation/index.html")
    assert loads == []
    assert settings["max_requests"] >= 50_000
