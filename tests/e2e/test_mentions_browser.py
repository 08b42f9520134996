"""Mentions and links in a real browser: a mention opens the card like any name does."""

from __future__ import annotations

import pytest
from flask import Flask
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.conftest import add_posts
from tests.conftest import make_user
from tests.e2e.conftest import csp_violations
from tests.e2e.conftest import log_in
from tests.e2e.test_hovercards import CARD
from tests.e2e.test_hovercards import XSS_IMG
from tests.e2e.test_hovercards import open_card
from tests.e2e.test_hovercards import point_at
from webapp.people.profiles import update_about_me

pytestmark = pytest.mark.browser


@pytest.fixture
def mentions(app: Flask) -> None:
    """Carol's comment mentions Bob and links to the docs; Carol's about-me mentions Bob."""
    make_user(app, "alice")
    bob = make_user(app, "bob", about_me="Bob bakes bread.")
    carol = make_user(app, "carol")
    add_posts(app, bob, ["bob's comment"])
    add_posts(app, carol, [f"Thanks @bob! See https://docs.example.org/guide {XSS_IMG}"])
    with app.app_context():
        update_about_me(carol, "Bakes with @bob.")


@pytest.mark.usefixtures("mentions")
def test_hovering_a_mention_opens_the_card(page: Page) -> None:
    log_in(page, "alice", PASSWORD)
    comment = page.locator("#feed-items .post").first
    mention = comment.locator(".post-body .user-link")
    expect(mention).to_have_text("bob")
    point_at(page, mention)
    card = open_card(page)
    expect(card).to_contain_text("Bob bakes bread.")
    expect(card.get_by_role("button", name="Follow")).to_be_visible()
    expect(mention).to_have_attribute("aria-expanded", "true")
    # The link beside it is a link that passes nothing on, and the payload stayed text.
    link = comment.locator(".post-body a[rel]")
    expect(link).to_have_text("docs.example.org/guide")
    expect(link).to_have_attribute("rel", "nofollow ugc noopener noreferrer")
    expect(comment).to_contain_text("<img src=x onerror=")
    assert page.evaluate("window.__xss") is None
    page.keyboard.press("Escape")
    expect(page.locator(CARD)).to_have_count(0)
    assert csp_violations(page) == []


@pytest.mark.usefixtures("mentions")
def test_a_mention_in_an_about_me_opens_the_card_on_the_profile(page: Page) -> None:
    log_in(page, "alice", PASSWORD)
    page.goto("/user/carol")
    mention = page.locator(".profile-top .card-about .user-link")
    expect(mention).to_have_text("bob")
    point_at(page, mention)
    expect(open_card(page)).to_contain_text("Bob bakes bread.")
    # In Carol's own card (a popover), the mention is a link that keeps the card open.
    page.keyboard.press("Escape")
    page.goto("/")
    point_at(page, page.locator("#feed-items .post-meta .user-link", has_text="carol"))
    card = open_card(page)
    inner = card.locator(".card-about .user-link")
    expect(inner).to_have_text("bob")
    point_at(page, inner)
    page.wait_for_timeout(700)
    expect(page.locator(CARD)).to_have_count(1)
    expect(card).to_contain_text("Bakes with")
    inner.click()
    page.wait_for_url("**/user/bob")
