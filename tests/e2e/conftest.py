"""Browser tests: the app on a live local server, driven through headless Chromium.

Playwright drives Debian's Chromium at /usr/bin/chromium (Playwright's own browser download
is not used). Set CHROMIUM to use another binary.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask import request
from playwright.sync_api import Browser
from playwright.sync_api import BrowserContext
from playwright.sync_api import ConsoleMessage
from playwright.sync_api import Page
from playwright.sync_api import WebError
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


class ConsoleErrors:
    """What a browser reports as an error: console.error calls (htmx logs its own errors
    there), resources that failed to load (Chromium logs those too, HTTP errors included) and
    uncaught exceptions. Every browser test fails on any of them, unless it declares the ones
    it causes on purpose: `console_errors.expect(pattern)`, or for an HTTP error status,
    `console_errors.expect_status(422, "/login")`."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.expected: list[re.Pattern[str]] = []

    def expect(self, pattern: str) -> None:
        """Allow the errors this regular expression finds (in "message [url]"). It must find
        one: a declaration cannot outlive the error it was made for."""
        self.expected.append(re.compile(pattern))

    def expect_status(self, status: int, path: str) -> None:
        """Allow what a response with this error status from this path logs: Chromium's
        "Failed to load resource" (for any request) and, for an htmx request that treats
        the status as an error, htmx's "Response Status Error Code"."""
        path = re.escape(path)
        self.expect(
            rf"status of {status} \(.*\) \[https?://[^/\]]+{path}[?\]]"
            rf"|^Response Status Error Code {status} from {path}[?,]"
        )

    def watch(self, context: BrowserContext) -> None:
        context.on("console", self.on_console)
        context.on("weberror", self.on_uncaught)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            url = message.location["url"]  # the failed resource, or the script that logged
            self.seen.append(f"{message.text} [{url}]" if url else message.text)

    def on_uncaught(self, web_error: WebError) -> None:
        self.seen.append(f"uncaught {web_error.error.name}: {web_error.error.message}")

    def check(self) -> None:
        unexpected = [e for e in self.seen if not any(p.search(e) for p in self.expected)]
        missing = [p.pattern for p in self.expected if not any(p.search(e) for e in self.seen)]
        if unexpected:
            pytest.fail("errors in the browser console:\n" + "\n".join(unexpected))
        if missing:
            pytest.fail(f"expected console errors that never came: {missing}")


@pytest.fixture
def console_errors() -> ConsoleErrors:
    return ConsoleErrors()


@contextmanager
def browser_page(
    browser: Browser, server: LiveServer, console_errors: ConsoleErrors, **options: Any
) -> Iterator[Page]:
    """A page in a browser context of its own (its own cookies; `options` go to
    new_context), held to what every browser test must show when it ends: no CSP violation,
    no request to another host, no error in the console it did not declare. A test that
    fails inside the `with` block only closes the context."""
    context = browser.new_context(base_url=server.url, **options)
    # Every page loaded records CSP violations here.
    context.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', e =>"
        " window.__cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    console_errors.watch(context)
    requested: list[str] = []
    context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations: list[str] = []
    try:
        yield page
        if not page.is_closed():
            violations = csp_violations(page)
    finally:
        context.close()  # also delivers any console message still on its way
    assert violations == []
    assert all(url.startswith((server.url, "data:")) for url in requested), requested
    console_errors.check()


@pytest.fixture
def page(
    browser: Browser, live_server: LiveServer, console_errors: ConsoleErrors
) -> Iterator[Page]:
    with browser_page(browser, live_server, console_errors) as page:
        yield page


def csp_violations(page: Page) -> list[str]:
    return page.evaluate("window.__cspViolations")


def log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def wait_until(page: Page, predicate: str, arg: Any = None, timeout_ms: int = 10_000) -> None:
    """`page.wait_for_function` without its eval: Playwright builds the predicate it polls
    with eval inside the page, which this app's CSP refuses whenever the first check is
    false (the test then fails with a CSP violation, depending on timing). `page.evaluate`
    is not subject to the page's CSP."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(predicate, arg):
        if time.monotonic() > deadline:
            pytest.fail(f"still false after {timeout_ms} ms: {predicate}")
        page.wait_for_timeout(50)


def wait_until_still(page: Page) -> float:
    """Wait until the page stops scrolling (wheel, End and PageDown scroll smoothly, for
    longer on a busy machine); its scroll position then."""
    last = None
    for _ in range(50):
        now = page.evaluate("window.scrollY")
        if now == last:
            return now
        last = now
        page.wait_for_timeout(100)
    pytest.fail("the page kept scrolling")
