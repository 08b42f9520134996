"""Account flows in a real browser: a password reset through the e-mailed link, ending another
device's session from Settings, and deleting the account. Mail goes to the real SMTP test
server (the `live_mail` fixture)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.conftest import make_user
from tests.e2e.conftest import ConsoleErrors
from tests.e2e.conftest import LiveServer
from tests.e2e.conftest import browser_page
from tests.e2e.conftest import log_in
from tests.smtp import SMTPServer
from tests.smtp import link_in

pytestmark = pytest.mark.browser

NEW_PASSWORD = "a lantern over the river"
BAD_CREDENTIALS = "Invalid username or password."
LOGIN_PAGE = re.compile(r"/login(\?.*)?$")


def try_log_in(page: Page, username: str, password: str) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def log_out(page: Page) -> None:
    page.locator(".nav").get_by_role("button", name="Log out").click()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()


def test_reset_a_forgotten_password_from_the_emailed_link(
    page: Page,
    app: Flask,
    live_server: LiveServer,
    live_mail: SMTPServer,
    console_errors: ConsoleErrors,
) -> None:
    make_user(app, "grace", email="grace@example.com")

    page.goto("/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_role("button", name="Send me a link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()

    [message] = live_mail.wait_for(1)
    assert message["To"] == "grace@example.com"
    page.goto(link_in(message, "/reset_password/", public_url=live_server.url))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set my new password").click()

    # On the feed, logged in as Grace.
    page.wait_for_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", name="Hi, grace!")).to_be_visible()
    expect(page.get_by_text("Your password is changed")).to_be_visible()
    # The notice of the change arrives too (after the link).
    assert live_mail.wait_for(2)[1]["Subject"] == "Your password was changed"

    log_out(page)
    console_errors.expect_status(422, "/login")  # the old password, refused
    try_log_in(page, "grace", PASSWORD)
    expect(page.get_by_text(BAD_CREDENTIALS)).to_be_visible()
    expect(page).to_have_url(LOGIN_PAGE)
    try_log_in(page, "grace", NEW_PASSWORD)
    expect(page.get_by_role("heading", name="Hi, grace!")).to_be_visible()


def test_end_another_devices_session_from_settings(
    page: Page,
    browser: Browser,
    app: Flask,
    live_server: LiveServer,
    console_errors: ConsoleErrors,
) -> None:
    make_user(app, "ada")
    # A second browser, with cookies of its own, held to the same checks as the first.
    with browser_page(browser, live_server, console_errors) as phone:
        log_in(phone, "ada", PASSWORD)
        log_in(page, "ada", PASSWORD)

        page.get_by_role("link", name="Settings").click()
        page.locator(".settings-nav").get_by_role("link", name="Sessions").click()
        sessions = page.locator("#sessions li.session")
        expect(sessions).to_have_count(2)
        this_device = sessions.filter(has_text="this device")
        expect(this_device).to_have_count(1)
        expect(this_device.get_by_role("button")).to_have_count(0)  # ended by "Log out" above

        sessions.filter(has_not_text="this device").get_by_role("button", name="Log out").click()
        expect(page.get_by_text("That session is logged out.")).to_be_visible()
        expect(sessions).to_have_count(1)
        expect(sessions).to_contain_text("this device")

        # The phone's next page is the login page; this browser is still in.
        phone.goto("/settings")
        expect(phone).to_have_url(LOGIN_PAGE)
        expect(phone.get_by_role("heading", name="Log in")).to_be_visible()
        page.reload()
        expect(page.get_by_role("heading", name="Settings")).to_be_visible()


def test_delete_the_account_from_settings(
    page: Page,
    app: Flask,
    live_server: LiveServer,
    live_mail: SMTPServer,
    console_errors: ConsoleErrors,
) -> None:
    make_user(app, "vic")
    log_in(page, "vic", PASSWORD)
    page.get_by_role("link", name="Settings").click()

    delete_section = page.locator("#delete")
    delete_section.get_by_label("Current password").fill(PASSWORD)
    delete_section.get_by_label("Type your username to confirm").fill("vic")
    delete_section.get_by_role("button", name="Delete my account").click()

    expect(page).to_have_url(LOGIN_PAGE)
    expect(page.get_by_text("Your account vic is deleted. Goodbye!")).to_be_visible()
    [notice] = live_mail.wait_for(1)
    assert (notice["To"], notice["Subject"]) == ("vic@example.com", "Your account is deleted")

    console_errors.expect_status(422, "/login")  # the deleted account, refused
    try_log_in(page, "vic", PASSWORD)
    expect(page.get_by_text(BAD_CREDENTIALS)).to_be_visible()
    expect(page).to_have_url(LOGIN_PAGE)


def test_a_refused_settings_form_says_why(
    page: Page,
    app: Flask,
    live_server: LiveServer,
    live_mail: SMTPServer,
    console_errors: ConsoleErrors,
) -> None:
    """htmx swaps nothing on a 429; the glue script shows the server's message above the
    form instead of a button that seems to do nothing."""
    app.config["RATELIMIT_PASSWORD_CHECKS_PER_USER"] = "1 per hour"
    make_user(app, "grace")
    log_in(page, "grace", PASSWORD)
    # A wrong password (the form with its errors), then a refusal: both on purpose.
    console_errors.expect_status(422, "/settings/password")
    console_errors.expect_status(429, "/settings/password")
    page.goto("/settings")
    section = page.locator("#password")
    section.get_by_label("Current password").fill("not the password")
    section.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    section.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    section.get_by_role("button", name="Change password").click()
    expect(section.get_by_text("That is not your current password.")).to_be_visible()

    section = page.locator("#password")
    section.get_by_label("Current password").fill(PASSWORD)
    section.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    section.get_by_label("Confirm new password").fill(NEW_PASSWORD)
    section.get_by_role("button", name="Change password").click()
    alert = section.locator(".form-refusal")
    expect(alert).to_contain_text("Too many password changes in a short time.")
    expect(alert).to_contain_text("Please try again in")
