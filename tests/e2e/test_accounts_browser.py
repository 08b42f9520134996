"""A person registers (and is logged in), logs out, logs in again, is welcomed by name and
logs out, in a real browser."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.e2e.conftest import ConsoleErrors

pytestmark = pytest.mark.browser

PASSWORD = "a quiet harbour at dawn"


def test_register_login_welcome_logout(page: Page) -> None:
    page.goto("/")
    expect(page.get_by_text("Please log in to see this page.")).to_be_visible()

    page.get_by_role("link", name="Register").click()
    page.get_by_label("Username").fill("Grace_H")
    page.get_by_label("Email").fill("grace@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Confirm password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()

    # Registering logs the new user in: the feed, a welcome, and a banner asking to
    # confirm the address.
    expect(page.get_by_text("Welcome, Grace_H! Your account is ready.")).to_be_visible()
    expect(page.get_by_role("heading", name="Hi, Grace_H!")).to_be_visible()
    expect(page.get_by_text("Please confirm your e-mail address")).to_be_visible()
    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You have been logged out.")).to_be_visible()

    page.get_by_label("Username").fill("grace_h")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Remember me").check()
    page.get_by_role("button", name="Log in").click()

    expect(page.get_by_role("heading", name="Hi, Grace_H!")).to_be_visible()
    expect(page.locator(".nav-user")).to_have_text("Grace_H")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_text("You have been logged out.")).to_be_visible()
    expect(page.get_by_role("link", name="Log in")).to_be_visible()
    # Logged out for real: the feed sends us back to the login page.
    page.goto("/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    assert page.evaluate("window.__cspViolations") == []


def test_register_errors_show_next_to_fields(page: Page, console_errors: ConsoleErrors) -> None:
    console_errors.expect_status(422, "/register")  # the form with its errors
    page.goto("/register")
    page.get_by_label("Username").fill("x")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Password", exact=True).fill("password")
    page.get_by_label("Confirm password").fill("different")
    page.get_by_role("button", name="Register").click()
    expect(page.locator("#username-errors")).to_contain_text("3 to 30 characters")
    expect(page.locator("#email-errors")).to_be_visible()
    expect(page.locator("#password-errors")).to_contain_text("too common")
    expect(page.locator("#confirm_password-errors")).to_contain_text("do not match")
