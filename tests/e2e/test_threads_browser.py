"""Threads in a real browser: replying in place, a reply to a reply, "Show all N replies",
and the same with JavaScript turned off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.conftest import add_posts
from tests.conftest import make_user
from tests.conversation.test_threads import add_replies
from tests.e2e.conftest import ConsoleErrors
from tests.e2e.conftest import LiveServer
from tests.e2e.conftest import browser_page
from tests.e2e.conftest import csp_violations
from tests.e2e.conftest import log_in
from tests.e2e.test_hovercards import CARD
from tests.e2e.test_hovercards import open_card
from tests.e2e.test_hovercards import point_at
from webapp.conversation.models import Post
from webapp.core.extensions import db
from webapp.core.timeutil import utcnow

pytestmark = pytest.mark.browser


@pytest.fixture
def threads(app: Flask) -> dict[str, int]:
    """Bob's comment with Carol's reply; Dave's older comment with five replies."""
    make_user(app, "alice")
    bob = make_user(app, "bob", about_me="Bob bakes bread.")
    carol = make_user(app, "carol", about_me="Carol writes compilers.")
    dave = make_user(app, "dave")
    start = utcnow() - timedelta(hours=1)
    [busy] = add_posts(app, dave, ["Dave's busy thread"], timestamp=start)
    busy_replies = [
        add_replies(app, carol, busy, [f"busy reply {n}"], timestamp=start + timedelta(minutes=n))[
            0
        ]
        for n in range(1, 6)
    ]
    [top] = add_posts(app, bob, ["Bob's question"])
    [carols] = add_replies(app, carol, top, ["Carol's answer"])
    return {"top": top, "carols": carols, "busy": busy, "busy_first": busy_replies[0]}


def reply_of(app: Flask, body: str) -> Post:
    with app.app_context():
        post = db.session.scalars(select(Post).where(Post.body == body)).one()
        db.session.expunge(post)
        return post


def test_reply_in_place_and_to_a_reply(page: Page, app: Flask, threads: dict[str, int]) -> None:
    log_in(page, "alice", PASSWORD)
    top = page.locator(f"#post-{threads['top']}")
    top.get_by_role("link", name="Reply").click()
    form = page.locator(f"#reply-form-{threads['top']}")
    textarea = form.get_by_label("Your reply")
    expect(textarea).to_be_focused()
    expect(textarea).to_have_value("")
    textarea.fill("Alice agrees")
    form.get_by_role("button", name="Reply").click()
    replies = page.locator(f"#replies-{threads['top']} > .post")
    expect(replies).to_have_count(2)
    expect(replies.last).to_contain_text("Alice agrees")
    expect(form).to_have_count(0)  # the form closed
    assert page.url.endswith("/")  # no navigation

    # Answering Carol's reply: the form starts with @carol, and the reply joins the thread.
    page.locator(f"#post-{threads['carols']}").get_by_role("link", name="Reply").click()
    form = page.locator(f"#reply-form-{threads['carols']}")
    textarea = form.get_by_label("Your reply")
    expect(textarea).to_have_value("@carol ")
    expect(textarea).to_be_focused()
    page.keyboard.type("thank you")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")  # the Reply button
    expect(replies).to_have_count(3)
    expect(replies.last).to_contain_text("@carol thank you")
    assert reply_of(app, "@carol thank you").parent_id == threads["top"]
    # The mention is a name link like any other: it opens Carol's card.
    point_at(page, replies.last.locator(".post-body .user-link"))
    expect(open_card(page)).to_contain_text("Carol writes compilers.")
    page.keyboard.press("Escape")
    expect(page.locator(CARD)).to_have_count(0)
    # The time of the new reply links to its page: the thread, scrolled to it.
    new_id = reply_of(app, "@carol thank you").id
    replies.last.locator("a.post-time").click()
    page.wait_for_url(f"**/c/{threads['top']}#post-{new_id}")
    thread_replies = page.locator(f"#replies-{threads['top']} > .post")
    expect(thread_replies).to_have_count(3)
    # The thread page's own form: the reply lands last, the form starts again empty.
    page.locator("#reply").get_by_label("Your reply").fill("from the bottom")
    page.locator("#reply").get_by_role("button", name="Reply").click()
    expect(thread_replies).to_have_count(4)
    expect(thread_replies.last).to_contain_text("from the bottom")
    expect(page.locator("#reply").get_by_label("Your reply")).to_have_value("")
    assert page.url.endswith(f"#post-{new_id}")  # no navigation
    assert csp_violations(page) == []


def test_show_all_replies_loads_the_rest_in_place(page: Page, threads: dict[str, int]) -> None:
    log_in(page, "alice", PASSWORD)
    replies = page.locator(f"#replies-{threads['busy']} > .post")
    expect(replies).to_have_count(2)
    expect(replies.first).to_contain_text("busy reply 4")
    show_all = page.get_by_role("link", name="Show all 5 replies")
    show_all.click()
    expect(replies).to_have_count(5)
    expect(show_all).to_have_count(0)
    texts = [text.strip() for text in replies.locator(".post-body").all_inner_texts()]
    assert texts == [f"busy reply {n}" for n in range(1, 6)]
    # Focus left with the link: it is on the first reply the link brought.
    expect(replies.first).to_be_focused()
    assert page.url.endswith("/")
    # Replying in place after that puts the new reply last, once.
    page.locator(f"#post-{threads['busy']}").get_by_role("link", name="Reply").click()
    page.locator(f"#reply-form-{threads['busy']}").get_by_label("Your reply").fill("sixth")
    page.locator(f"#reply-form-{threads['busy']}").get_by_role("button", name="Reply").click()
    expect(replies).to_have_count(6)
    expect(replies.last).to_contain_text("sixth")


def test_invalid_reply_shows_its_error_in_the_form(
    page: Page, threads: dict[str, int], console_errors: ConsoleErrors
) -> None:
    console_errors.expect_status(422, f"/c/{threads['top']}/replies")
    log_in(page, "alice", PASSWORD)
    page.locator(f"#post-{threads['top']}").get_by_role("link", name="Reply").click()
    form = page.locator(f"#reply-form-{threads['top']}")
    form.get_by_role("button", name="Reply").click()
    expect(form.locator(".field-errors")).to_have_text("Write something first.")
    expect(page.locator(f"#replies-{threads['top']} > .post")).to_have_count(1)


def test_replies_without_javascript(
    browser: Browser,
    live_server: LiveServer,
    console_errors: ConsoleErrors,
    app: Flask,
    threads: dict[str, int],
) -> None:
    with browser_page(browser, live_server, console_errors, java_script_enabled=False) as page:
        log_in(page, "alice", PASSWORD)
        # Reply to a top comment: the link leads to the thread page's form.
        page.locator(f"#post-{threads['top']}").get_by_role("link", name="Reply").click()
        page.wait_for_url(f"**/c/{threads['top']}#reply")
        page.locator("#reply").get_by_label("Your reply").fill("no script here")
        page.locator("#reply").get_by_role("button", name="Reply").click()
        new_id = reply_of(app, "no script here").id
        page.wait_for_url(f"**/c/{threads['top']}#post-{new_id}")
        expect(page.get_by_text("Your reply is live.")).to_be_visible()
        replies = page.locator(f"#replies-{threads['top']} > .post")
        expect(replies).to_have_count(2)
        expect(replies.last).to_contain_text("no script here")

        # Reply to a reply: a page with the form, prefilled; back on the thread after.
        page.locator(f"#post-{threads['carols']}").get_by_role("link", name="Reply").click()
        page.wait_for_url(f"**/c/{threads['carols']}/reply-form")
        textarea = page.get_by_label("Your reply")
        expect(textarea).to_have_value("@carol ")
        textarea.fill("@carol and thanks")
        page.get_by_role("button", name="Reply").click()
        page.wait_for_url(f"**/c/{threads['top']}#post-*")
        expect(replies).to_have_count(3)
        expect(replies.last).to_contain_text("@carol and thanks")
        assert reply_of(app, "@carol and thanks").parent_id == threads["top"]

        # "Show all 5 replies" is a link to the thread page, which shows them all.
        page.goto("/")
        page.get_by_role("link", name="Show all 5 replies").click()
        page.wait_for_url(f"**/c/{threads['busy']}")
        expect(page.locator(f"#replies-{threads['busy']} > .post")).to_have_count(5)
