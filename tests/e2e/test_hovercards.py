"""The hover card as a person meets it: pointer, keyboard, touch, in headless Chromium."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import Locator
from playwright.sync_api import Page
from playwright.sync_api import expect
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.conftest import add_posts
from tests.conftest import make_user
from tests.e2e.conftest import ConsoleErrors
from tests.e2e.conftest import LiveServer
from tests.e2e.conftest import browser_page
from tests.e2e.conftest import csp_violations
from tests.e2e.conftest import log_in
from webapp.core.config import ROOT
from webapp.core.extensions import db
from webapp.models import USERNAME_MAX_LENGTH
from webapp.models import Post
from webapp.models import User
from webapp.people.follows import follow

pytestmark = pytest.mark.browser

CARD = ".tippy-box[data-theme~='hovercard']"
XSS_IMG = '<img src=x onerror="window.__xss = (window.__xss || 0) + 1">'
XSS_SCRIPT = "<script>window.__xss = (window.__xss || 0) + 1</script>"


@pytest.fixture
def people(app: Flask) -> dict[str, int]:
    """Alice (who logs in), Bob and Carol, each with a comment; Bob's is the newest."""
    ids = {
        "alice": make_user(app, "alice", about_me="Reader."),
        "carol": make_user(app, "carol", about_me="Carol writes compilers."),
        "bob": make_user(app, "bob", about_me="Bob bakes bread."),
    }
    add_posts(app, ids["alice"], ["alice was here"])
    add_posts(app, ids["carol"], ["carol's comment"])
    add_posts(app, ids["bob"], ["bob's comment"])
    return ids


@pytest.fixture
def feed(page: Page, people: dict[str, int]) -> Page:
    log_in(page, "alice", PASSWORD)
    return page


def name_link(page: Page, username: str) -> Locator:
    return page.locator(f"#feed-items .user-link:text-is('{username}')").first


def open_card(page: Page) -> Locator:
    card = page.locator(CARD)
    expect(card).to_be_visible()
    expect(card.locator(".profile-card")).to_be_visible()
    return card


def popup_requests(server: LiveServer, username: str) -> int:
    return server.paths.count(f"/user/{username}/popup")


def test_hover_opens_the_right_card_after_an_intent_delay(feed: Page) -> None:
    link = name_link(feed, "bob")
    link.hover()
    feed.wait_for_timeout(200)
    expect(feed.locator(CARD)).to_have_count(0)  # still inside the intent delay
    card = open_card(feed)
    expect(card).to_contain_text("bob")
    expect(card).to_contain_text("Bob bakes bread.")
    expect(card).to_contain_text("1 comment")
    expect(card.get_by_role("button", name="Follow")).to_be_visible()
    # ARIA for a non-modal popup: expanded state, a relation, an accessible name.
    expect(link).to_have_attribute("aria-haspopup", "dialog")
    expect(link).to_have_attribute("aria-expanded", "true")
    dialog_id = link.get_attribute("aria-controls")
    dialog = feed.locator(f"#{dialog_id}")
    expect(dialog).to_have_attribute("role", "dialog")
    expect(dialog).to_have_attribute("aria-label", "Profile of bob")
    assert csp_violations(feed) == []


def test_a_quick_pass_opens_nothing(feed: Page) -> None:
    name_link(feed, "bob").hover()
    feed.wait_for_timeout(120)
    feed.mouse.move(5, 5)
    feed.wait_for_timeout(900)
    expect(feed.locator(CARD)).to_have_count(0)


def test_pointer_moves_into_the_card_and_it_stays_then_leaves_and_it_closes(
    feed: Page,
) -> None:
    link = name_link(feed, "bob")
    link.hover()
    card = open_card(feed)
    box = card.bounding_box()
    feed.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2, steps=8)
    feed.wait_for_timeout(700)
    expect(card).to_be_visible()
    # Its link works from inside: the profile opens.
    feed.mouse.move(5, feed.viewport_size["height"] - 5, steps=4)
    expect(feed.locator(CARD)).to_have_count(0, timeout=1500)
    expect(link).to_have_attribute("aria-expanded", "false")


def test_links_inside_the_card_are_usable(feed: Page) -> None:
    name_link(feed, "bob").hover()
    card = open_card(feed)
    card.get_by_role("link", name="bob").click()
    feed.wait_for_url("**/user/bob")


def test_escape_closes_the_card(feed: Page) -> None:
    name_link(feed, "bob").hover()
    open_card(feed)
    feed.keyboard.press("Escape")
    expect(feed.locator(CARD)).to_have_count(0)


def test_only_one_card_at_a_time(feed: Page) -> None:
    # Carol's name is below Bob's, so Bob's card does not cover it.
    name_link(feed, "carol").hover()
    open_card(feed)
    name_link(feed, "bob").hover()
    expect(feed.locator(CARD)).to_contain_text("Bob bakes bread.")
    expect(feed.locator(CARD)).to_have_count(1)


def test_keyboard_focus_opens_the_card(feed: Page) -> None:
    feed.locator("#body").focus()
    feed.keyboard.press("Tab")  # the Post button
    feed.keyboard.press("Tab")  # the first name in the feed: bob
    focused = feed.evaluate("document.activeElement.textContent")
    assert focused == "bob"
    card = open_card(feed)
    expect(card).to_contain_text("Bob bakes bread.")
    feed.keyboard.press("Escape")
    expect(feed.locator(CARD)).to_have_count(0)


def test_clicking_the_name_opens_the_profile(feed: Page) -> None:
    name_link(feed, "carol").click()
    feed.wait_for_url("**/user/carol")
    expect(feed.locator(".profile-top")).to_contain_text("Carol writes compilers.")


def test_a_tap_on_a_touch_screen_goes_to_the_profile(
    browser: Browser,
    live_server: LiveServer,
    console_errors: ConsoleErrors,
    people: dict[str, int],
) -> None:
    with browser_page(
        browser, live_server, console_errors, has_touch=True, is_mobile=True
    ) as phone:
        log_in(phone, "alice", PASSWORD)
        name_link(phone, "bob").tap()
        phone.wait_for_url("**/user/bob")
        expect(phone.locator(CARD)).to_have_count(0)


# Every box in the open card, and every run of text (a text node can overflow the box of the
# element holding it), that ends outside the card's padding box: "what: edges vs the card's".
OVERFLOWING = """card => {
  const limit = card.getBoundingClientRect();
  const outside = [];
  const walker = document.createTreeWalker(card, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    let box = node;
    if (node.nodeType === Node.TEXT_NODE) {
      if (!node.textContent.trim()) continue;
      box = document.createRange();
      box.selectNodeContents(node);
    }
    const r = box.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;  // not rendered
    if (r.left < limit.left - 0.5 || r.right > limit.right + 0.5
        || r.top < limit.top - 0.5 || r.bottom > limit.bottom + 0.5) {
      const what = node.nodeType === Node.TEXT_NODE
        ? JSON.stringify(node.textContent.trim()) : node.tagName + "." + node.className;
      outside.push(`${what}: ${r.left}-${r.right} x ${r.top}-${r.bottom} vs `
        + `${limit.left}-${limit.right} x ${limit.top}-${limit.bottom}`);
    }
  }
  return outside;
}"""


def test_large_counts_and_the_longest_name_fit_inside_the_card(feed: Page, app: Flask) -> None:
    longest = "W" * USERNAME_MAX_LENGTH  # the widest letter, as many as a name may have
    busy = make_user(app, longest, about_me="Posts a lot.")
    add_posts(app, busy, ["busy as ever"])
    with app.app_context():
        user = db.session.get(User, busy)
        user.post_count, user.follower_count, user.following_count = 9999, 1234, 5678
        db.session.commit()
    feed.reload()
    name_link(feed, longest).hover()
    card = open_card(feed)
    expect(card).to_contain_text("9999 comments")
    expect(card.get_by_role("button", name="Follow")).to_be_visible()
    outside = card.locator(".hovercard").evaluate(OVERFLOWING)
    assert not outside, "\n".join(outside)


def test_follow_from_inside_the_card_updates_the_counts(
    feed: Page, app: Flask, people: dict[str, int], live_server: LiveServer
) -> None:
    add_posts(app, people["bob"], ["bob again"])
    feed.reload()
    bob_links = feed.locator("#feed-items .user-link:text-is('bob')")
    expect(bob_links).to_have_count(2)
    bob_links.nth(1).hover()
    card = open_card(feed)
    expect(card).to_contain_text("0 followers")
    card.get_by_role("button", name="Follow").click()
    expect(card).to_contain_text("1 follower")
    expect(card.get_by_role("button", name="Unfollow")).to_be_visible()
    with app.app_context():
        assert db.session.get(User, people["bob"]).follower_count == 1
    feed.mouse.move(5, 5)
    expect(feed.locator(CARD)).to_have_count(0, timeout=1500)
    # The other link to bob shows the same, updated card, without asking again.
    bob_links.nth(0).hover()
    expect(open_card(feed)).to_contain_text("1 follower")
    assert popup_requests(live_server, "bob") == 1
    assert csp_violations(feed) == []


def test_three_hovers_over_one_user_cost_one_request(feed: Page, live_server: LiveServer) -> None:
    link = name_link(feed, "carol")
    for _ in range(3):
        link.hover()
        open_card(feed)
        feed.mouse.move(5, 5)
        expect(feed.locator(CARD)).to_have_count(0, timeout=1500)
    assert popup_requests(live_server, "carol") == 1


def test_a_posted_comment_appears_on_top_with_a_working_card(
    feed: Page, app: Flask, people: dict[str, int]
) -> None:
    feed.locator("#body").fill("Fresh from the form")
    feed.get_by_role("button", name="Post").click()
    first = feed.locator("#feed-items .post").first
    expect(first).to_contain_text("Fresh from the form")
    expect(feed.locator("#body")).to_have_value("")
    first.locator(".user-link").hover()
    expect(open_card(feed)).to_contain_text("Reader.")
    assert csp_violations(feed) == []


def test_the_post_button_is_disabled_while_the_comment_is_sent(
    feed: Page, live_server: LiveServer, console_errors: ConsoleErrors
) -> None:
    live_server.delays["/"] = 1.0  # the feed is loaded: only the post is slow
    feed.locator("#body").fill("Sent on a slow line")
    post = feed.get_by_role("button", name="Post")
    post.click()
    expect(post).to_be_disabled()
    expect(feed.locator("#feed-items .post").first).to_contain_text("Sent on a slow line")
    expect(feed.get_by_role("button", name="Post")).to_be_enabled()  # the fresh form's
    # htmx found the button it was told to disable (it logs an error when it finds none).
    assert console_errors.seen == []


def test_a_double_click_posts_once(feed: Page, app: Flask) -> None:
    feed.locator("#body").fill("Only once, please")
    feed.get_by_role("button", name="Post").dblclick()
    expect(feed.locator("#feed-items .post").first).to_contain_text("Only once, please")
    feed.wait_for_timeout(500)
    expect(feed.locator("#feed-items .post", has_text="Only once, please")).to_have_count(1)
    with app.app_context():
        stored = db.session.scalar(select(func.count()).where(Post.body == "Only once, please"))
    assert stored == 1


def test_errors_show_in_the_form(feed: Page, console_errors: ConsoleErrors) -> None:
    console_errors.expect_status(422, "/")  # the form with its errors
    feed.locator("#body").fill("   \n  ")
    feed.get_by_role("button", name="Post").click()
    expect(feed.locator("#body-errors")).to_contain_text("Write something first.")
    expect(feed.locator("#feed-items .post").first).to_contain_text("bob's comment")


def test_load_more_brings_older_comments_with_working_cards(
    feed: Page, app: Flask, people: dict[str, int]
) -> None:
    dora = make_user(app, "dora", about_me="Dora digs databases.")
    add_posts(app, dora, [f"dora {n}" for n in range(3)])
    erin = make_user(app, "erin")
    add_posts(app, erin, [f"erin {n}" for n in range(22)])
    feed.reload()
    expect(feed.locator("#feed-items .post")).to_have_count(20)
    feed.get_by_role("button", name="Load more").click()
    expect(feed.locator("#feed-items .post")).to_have_count(28)
    expect(feed.get_by_role("button", name="Load more")).to_have_count(0)
    name_link(feed, "dora").hover()
    expect(open_card(feed)).to_contain_text("Dora digs databases.")
    assert csp_violations(feed) == []


def test_script_payloads_never_run(page: Page, app: Flask) -> None:
    make_user(app, "alice")
    mallory = make_user(app, "mallory", about_me=f"hi {XSS_IMG} {XSS_SCRIPT}")
    add_posts(app, mallory, [f"look {XSS_IMG}", f"and {XSS_SCRIPT}"])
    log_in(page, "alice", PASSWORD)
    expect(page.locator("#feed-items .post").first).to_contain_text("<script>")
    name_link(page, "mallory").hover()
    card = open_card(page)
    expect(card).to_contain_text("<img src=x onerror=")
    page.goto("/user/mallory")
    expect(page.locator(".profile-top")).to_contain_text("<script>")
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    assert page.locator("img[src='x']").count() == 0
    assert csp_violations(page) == []


def test_deleted_user_gives_a_short_error_in_a_steady_card(
    feed: Page,
    app: Flask,
    people: dict[str, int],
    live_server: LiveServer,
    console_errors: ConsoleErrors,
) -> None:
    # The page was loaded while carol existed; she is gone by the time of the hover.
    with app.app_context():
        db.session.execute(delete(User).where(User.id == people["carol"]))
        db.session.commit()
    live_server.delays["/user/carol/popup"] = 1.0
    console_errors.expect_status(404, "/user/carol/popup")
    name_link(feed, "carol").hover()
    card = feed.locator(CARD)
    expect(card).to_contain_text("Loading")
    loading = card.bounding_box()
    expect(card).to_contain_text("There is no user by that name.")
    loaded = card.bounding_box()
    assert loaded["width"] == loading["width"] and loaded["height"] == loading["height"]


def test_loading_state_has_the_card_size(feed: Page, live_server: LiveServer) -> None:
    live_server.delays["/user/bob/popup"] = 1.0
    name_link(feed, "bob").hover()
    card = feed.locator(CARD)
    expect(card).to_contain_text("Loading")
    loading = card.bounding_box()
    expect(card.locator(".profile-card")).to_be_visible()
    loaded = card.bounding_box()
    assert loaded["width"] == loading["width"]
    assert loaded["height"] >= loading["height"]
    assert loaded["x"] == loading["x"]


def test_screenshot_of_an_open_card(feed: Page, tmp_path: Path) -> None:
    """The README's picture. UPDATE_SCREENSHOT=1 writes it to docs/; otherwise tmp."""
    feed.set_viewport_size({"width": 800, "height": 760})
    name_link(feed, "bob").hover()
    open_card(feed)
    # Past Tippy's fade-in, so the picture shows the card as a person sees it.
    expect(feed.locator(CARD)).to_have_css("opacity", "1")
    target = (
        ROOT / "docs" / "hovercard.png"
        if os.environ.get("UPDATE_SCREENSHOT")
        else tmp_path / "hovercard.png"
    )
    target.parent.mkdir(exist_ok=True)
    feed.screenshot(path=str(target))
    assert target.read_bytes().startswith(b"\x89PNG")


def test_no_page_html_is_kept_in_browser_storage(feed: Page) -> None:
    """htmx's history cache is off: nothing of a logged-in page stays in localStorage."""
    name_link(feed, "bob").hover()
    open_card(feed)
    name_link(feed, "bob").click()
    feed.wait_for_url("**/user/bob")
    feed.go_back()
    feed.wait_for_url("**/")
    assert feed.evaluate("window.localStorage.length") == 0
    stored = feed.evaluate("Object.keys(sessionStorage).map(k => [k, sessionStorage.getItem(k)])")
    # htmx remembers the current path (htmx-current-path-for-history), never page HTML.
    assert all("<" not in value and "bob" not in value for _, value in stored), stored


def test_the_card_says_how_they_relate_to_you(
    feed: Page, app: Flask, people: dict[str, int], live_server: LiveServer
) -> None:
    with app.app_context():
        follow(people["carol"], people["alice"])  # carol follows alice...
        follow(people["alice"], people["carol"])  # ...and alice follows carol, who
        follow(people["carol"], people["bob"])  # follows bob
    feed.reload()
    name_link(feed, "carol").hover()
    expect(open_card(feed).locator(".card-relation")).to_have_text("You follow each other")
    feed.mouse.move(5, 5)
    expect(feed.locator(CARD)).to_have_count(0, timeout=1500)
    name_link(feed, "bob").hover()
    relation = open_card(feed).locator(".card-relation")
    expect(relation).to_have_text("Followed by carol")
    avatar = relation.get_by_role("link", name="carol")
    assert avatar.locator("img").bounding_box()["width"] == 20
    # A plain link: pointing at it opens no card of its own, and it leads to the profile.
    avatar.hover()
    feed.wait_for_timeout(700)
    expect(feed.locator(CARD)).to_have_count(1)
    expect(feed.locator(CARD)).to_contain_text("Followed by carol")
    assert popup_requests(live_server, "carol") == 1
    avatar.click()
    feed.wait_for_url("**/user/carol")
