"""Browser tests: the app on a live local server, driven through headless Chromium.

Playwright drives Debian's Chromium at /usr/bin/chromium (Playwright's own browser download
is not used). Set CHROMIUM to use another binary.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask import request
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from tests.smtp import SMTPServer
from webapp.core.extensions import db

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class LiveServer:
    """The app on a free localhost port, in a thread. It records the paths it served, and
    can answer chosen paths slowly (`delays`) to show what a slow network looks like."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.paths: list[str] = []
        self.delays: dict[str, float] = {}
        app.before_request(self.record)
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def record(self) -> None:
        self.paths.append(request.path)
        time.sleep(self.delays.get(request.path, 0))

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    # Plain HTTP on localhost: the cookies cannot be Secure here.
    app.config.update(SESSION_COOKIE_SECURE=False)
    with LiveServer(app) as server:
        yield server
    with app.app_context():
        db.session.remove()


@pytest.fixture
def live_mail(live_server: LiveServer, smtp_server: SMTPServer) -> SMTPServer:
    """The live app sends its mail to the test's real SMTP server, with links to the live
    server (its PUBLIC_URL, as a real site's links point at the real site)."""
    live_server.app.config.update(smtp_server.config(), PUBLIC_URL=live_server.url)
    return smtp_server


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install it (Debian: apt-get install chromium) "
            "or set CHROMIUM. The browser tests are part of the suite and are not skipped."
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    # Every page loaded records CSP violations here; tests assert there are none.
    context.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    yield page
    # Whatever the test did: the policy was never violated, and no other host was asked
    # for anything.
    if not page.is_closed():
        assert csp_violations(page) == []
    assert all(url.startswith((live_server.url, "data:")) for url in requested), requested
    context.close()


def csp_violations(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
