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
from sqlalchemy import update

from tests.conftest import PASSWORD
from tests.conftest import add_posts
from tests.conftest import make_user
from tests.e2e.conftest import ConsoleErrors
from tests.e2e.conftest import LiveServer
from tests.e2e.conftest import browser_page
from tests.e2e.conftest import csp_violations
from tests.e2e.conftest import log_in
from tests.e2e.conftest import wait_until
from tests.e2e.conftest import wait_until_still
from webapp.accounts.models import USERNAME_MAX_LENGTH
from webapp.accounts.models import User
from webapp.conversation.models import Post
from webapp.core.config import ROOT
from webapp.core.extensions import db
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


def point_at(page: Page, target: Locator) -> tuple[float, float]:
    """Move the pointer onto the middle of `target` as a hand does, from where it is in a few
    steps; the spot where it stops. (A page takes the first pointer move it sees only as
    where the pointer is: one jump onto a name, the first on a page, would open nothing.)"""
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y, steps=4)
    return x, y


def open_card(page: Page) -> Locator:
    card = page.locator(CARD)
    expect(card).to_be_visible()
    expect(card.locator(".profile-card")).to_be_visible()
    return card


def popup_requests(server: LiveServer, username: str) -> int:
    return server.paths.count(f"/user/{username}/popup")


def card_requests(page: Page) -> list[str]:
    """The URL of every card the browser asks for from now on (the list keeps filling)."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url) if "/popup" in request.url else 0)
    return seen


NAME_UNDER = """([x, y]) => {
  const link = document.elementFromPoint(x, y)?.closest("[data-hovercard]");
  return link ? link.textContent : null;
}"""


def name_under(page: Page, x: float, y: float) -> str | None:
    """The name whose link is at this spot of the viewport, if any."""
    return page.evaluate(NAME_UNDER, [x, y])


def rest_at(page: Page, x: float, y: float) -> None:
    """Move the pointer to (x, y) as a hand does and leave it there, still."""
    page.mouse.move(x, y, steps=4)
    page.wait_for_timeout(500)  # what it crossed on the way has been asked for by now


def assert_the_hover_update_opens_nothing(
    page: Page, requests: list[str], x: float, y: float, name: str
) -> None:
    """`name` came under the pointer resting at (x, y) with no one moving it. The browser
    updates hover there; a move to where the pointer already is does the same. Neither is a
    person pointing: no card opens and none is asked for."""
    assert name_under(page, x, y) == name  # the scene is set
    asked = len(requests)
    page.mouse.move(x, y)
    page.wait_for_timeout(900)  # well past the intent delay
    expect(page.locator(CARD)).to_have_count(0)
    assert requests[asked:] == []


def scroll_and_settle(page: Page, scroll: str) -> float:
    """Scroll with the wheel (under the pointer) or the keyboard and wait until the page
    stops (both scroll smoothly); how far it went."""
    start = page.evaluate("window.scrollY")
    if scroll == "wheel":
        page.mouse.wheel(0, 200)
    else:
        page.keyboard.press(scroll)
    wait_until(page, "start => window.scrollY !== start", start)
    return wait_until_still(page) - start


@pytest.fixture
def long_feed(feed: Page, app: Flask) -> Page:
    """The feed with a page and a bit of comments: it scrolls, and "Load more" is there."""
    erin = make_user(app, "erin", about_me="Erin writes a lot.")
    add_posts(app, erin, [f"erin {n}" for n in range(22)])
    feed.reload()
    return feed


def tab_to_a_name(page: Page) -> Locator:
    """Press Tab from the top of the page until a name in the feed has focus; that name."""
    for _ in range(12):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('#feed-items .user-link')"):
            return page.locator("#feed-items .user-link:focus")
    pytest.fail("Tab never reached a name in the feed")


#: Records, on the page's own clock, when a name first hears the pointer's intent and when
#: a card first appears. A wall-clock sleep in the test cannot tell "too early" on a loaded
#: machine: Playwright's pointer steps alone can outlast the delay.
CARD_TIMING = """card => {
  const timing = (window.__cardTiming = {});
  const heard = () => { timing.intent ??= performance.now(); };
  document.addEventListener("hovercard:intent", heard, true);
  new MutationObserver(() => {
    if (document.querySelector(card)) timing.shown ??= performance.now();
  }).observe(document.body, { childList: true, subtree: true });
}"""
INTENT_DELAY_MS = 400  # app.js, Tippy's `delay`


def test_hover_opens_the_right_card_after_an_intent_delay(feed: Page) -> None:
    link = name_link(feed, "bob")
    feed.evaluate(CARD_TIMING, CARD)
    point_at(feed, link)
    card = open_card(feed)
    timing = feed.evaluate("window.__cardTiming")
    # Still hidden for the whole intent delay after the pointer landed on the name.
    assert timing["shown"] - timing["intent"] >= INTENT_DELAY_MS - 1, timing
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
    point_at(feed, name_link(feed, "bob"))
    feed.wait_for_timeout(120)
    feed.mouse.move(5, 5)
    feed.wait_for_timeout(900)
    expect(feed.locator(CARD)).to_have_count(0)


def test_pointer_moves_into_the_card_and_it_stays_then_leaves_and_it_closes(
    feed: Page,
) -> None:
    link = name_link(feed, "bob")
    point_at(feed, link)
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
    point_at(feed, name_link(feed, "bob"))
    card = open_card(feed)
    card.get_by_role("link", name="bob").click()
    feed.wait_for_url("**/user/bob")


def test_escape_closes_the_card(feed: Page) -> None:
    point_at(feed, name_link(feed, "bob"))
    open_card(feed)
    feed.keyboard.press("Escape")
    expect(feed.locator(CARD)).to_have_count(0)


def test_only_one_card_at_a_time(feed: Page) -> None:
    # Carol's name is below Bob's, and with room below it her card opens downwards: it does
    # not cover Bob's name (a person cannot point at a name under a card either).
    feed.set_viewport_size({"width": 1000, "height": 1000})
    point_at(feed, name_link(feed, "carol"))
    open_card(feed)
    point_at(feed, name_link(feed, "bob"))
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
    point_at(feed, name_link(feed, longest))
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
    point_at(feed, bob_links.nth(1))
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
    point_at(feed, bob_links.nth(0))
    expect(open_card(feed)).to_contain_text("1 follower")
    assert popup_requests(live_server, "bob") == 1
    assert csp_violations(feed) == []


def test_three_hovers_over_one_user_cost_one_request(feed: Page, live_server: LiveServer) -> None:
    link = name_link(feed, "carol")
    for _ in range(3):
        point_at(feed, link)
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
    point_at(feed, first.locator(".user-link"))
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
    point_at(feed, name_link(feed, "dora"))
    expect(open_card(feed)).to_contain_text("Dora digs databases.")
    assert csp_violations(feed) == []


def test_script_payloads_never_run(page: Page, app: Flask) -> None:
    make_user(app, "alice")
    mallory = make_user(app, "mallory", about_me=f"hi {XSS_IMG} {XSS_SCRIPT}")
    add_posts(app, mallory, [f"look {XSS_IMG}", f"and {XSS_SCRIPT}"])
    log_in(page, "alice", PASSWORD)
    expect(page.locator("#feed-items .post").first).to_contain_text("<script>")
    point_at(page, name_link(page, "mallory"))
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
    point_at(feed, name_link(feed, "carol"))
    card = feed.locator(CARD)
    expect(card).to_contain_text("Loading")
    loading = card.bounding_box()
    expect(card).to_contain_text("There is no user by that name.")
    loaded = card.bounding_box()
    assert loaded["width"] == loading["width"] and loaded["height"] == loading["height"]


def test_loading_state_has_the_card_size(feed: Page, live_server: LiveServer) -> None:
    live_server.delays["/user/bob/popup"] = 1.0
    point_at(feed, name_link(feed, "bob"))
    card = feed.locator(CARD)
    expect(card).to_contain_text("Loading")
    loading = card.bounding_box()
    expect(card.locator(".profile-card")).to_be_visible()
    loaded = card.bounding_box()
    assert loaded["width"] == loading["width"]
    assert loaded["height"] >= loading["height"]
    assert loaded["x"] == loading["x"]


@pytest.mark.parametrize(
    ("scheme", "filename"), [("light", "hovercard.png"), ("dark", "hovercard-dark.png")]
)
def test_screenshot_of_an_open_card(
    scheme: str,
    filename: str,
    browser: Browser,
    live_server: LiveServer,
    console_errors: ConsoleErrors,
    people: dict[str, int],
    tmp_path: Path,
) -> None:
    """The README's pictures, light and dark. UPDATE_SCREENSHOT=1 writes them to docs/;
    otherwise tmp."""
    with browser_page(
        browser,
        live_server,
        console_errors,
        color_scheme=scheme,
        viewport={"width": 800, "height": 760},
    ) as page:
        log_in(page, "alice", PASSWORD)
        point_at(page, name_link(page, "bob"))
        open_card(page)
        # Past Tippy's fade-in, so the picture shows the card as a person sees it.
        expect(page.locator(CARD)).to_have_css("opacity", "1")
        target = (
            ROOT / "docs" / filename if os.environ.get("UPDATE_SCREENSHOT") else tmp_path / filename
        )
        target.parent.mkdir(exist_ok=True)
        page.screenshot(path=str(target))
    assert target.read_bytes().startswith(b"\x89PNG")


def test_no_page_html_is_kept_in_browser_storage(feed: Page) -> None:
    """htmx's history cache is off: nothing of a logged-in page stays in localStorage."""
    point_at(feed, name_link(feed, "bob"))
    open_card(feed)
    name_link(feed, "bob").click()
    feed.wait_for_url("**/user/bob")
    feed.go_back()
    feed.wait_for_url("**/")
    assert feed.evaluate("window.localStorage.length") == 0
    stored = feed.evaluate("Object.keys(sessionStorage).map(k => [k, sessionStorage.getItem(k)])")
    # htmx remembers the current path (htmx-current-path-for-history), never page HTML.
    assert all("<" not in value and "bob" not in value for _, value in stored), stored


# Intent follows the pointer, not the page ----------------------------------------------------


def test_the_same_spot_again_is_not_a_person_pointing(feed: Page) -> None:
    requests = card_requests(feed)
    box = name_link(feed, "bob").bounding_box()
    x, y = box["x"] + 4, box["y"] + box["height"] / 2
    # One jump onto the name: the first move this page sees, as when it loads under a
    # pointer resting there. Then the same spot again, as the browser's hover updates.
    feed.mouse.move(x, y)
    for _ in range(3):
        feed.mouse.move(x, y)
    feed.wait_for_timeout(900)
    expect(feed.locator(CARD)).to_have_count(0)
    assert requests == []
    feed.mouse.move(x + 3, y)  # a hand moves the pointer, still on the name
    expect(open_card(feed)).to_contain_text("Bob bakes bread.")
    assert len(requests) == 1


def test_content_inserted_above_a_still_pointer_opens_nothing(feed: Page) -> None:
    requests = card_requests(feed)
    box = name_link(feed, "bob").bounding_box()
    x, y = box["x"] + 4, box["y"] + box["height"] / 2 + 40  # on bob's comment, below his name
    assert name_under(feed, x, y) is None
    rest_at(feed, x, y)
    # Something 40 pixels high appears at the top of the page: bob's name moves under the
    # pointer. (Set through the CSSOM: the CSP forbids style attributes in markup, not this.)
    feed.evaluate("""() => {
      const notice = document.createElement("p");
      notice.textContent = "A notice";
      notice.style.height = "40px";
      notice.style.margin = "0";
      document.querySelector("main").prepend(notice);
    }""")
    assert_the_hover_update_opens_nothing(feed, requests, x, y, "bob")


def test_a_comment_posted_under_a_still_pointer_opens_nothing(feed: Page) -> None:
    requests = card_requests(feed)
    x, y = point_at(feed, name_link(feed, "bob"))
    open_card(feed)
    feed.keyboard.press("Escape")
    expect(feed.locator(CARD)).to_have_count(0)
    # The pointer stays on bob's name; the comment goes by keyboard and lands on top, so
    # alice's name slides under the pointer.
    feed.locator("#body").focus()
    feed.keyboard.type("Posted without touching the mouse")
    feed.keyboard.press("Tab")
    feed.keyboard.press("Enter")
    expect(feed.locator("#feed-items .post").first).to_contain_text("without touching")
    assert_the_hover_update_opens_nothing(feed, requests, x, y, "alice")


def test_comments_loaded_under_a_still_pointer_open_nothing(long_feed: Page) -> None:
    feed = long_feed
    requests = card_requests(feed)
    feed.keyboard.press("End")  # to the bottom, where "Load more" is
    load_more = feed.get_by_role("button", name="Load more")
    expect(load_more).to_be_in_viewport()
    wait_until_still(feed)  # End scrolls smoothly: measure where the names end up
    # The spot where the first comment "Load more" brings will have its name: one comment
    # further down than the last one, whose name is one comment below the one before.
    names = feed.locator("#feed-items .user-link")
    last, before_last = names.nth(19).bounding_box(), names.nth(18).bounding_box()
    x = last["x"] + 4
    y = last["y"] + last["height"] / 2 + (last["y"] - before_last["y"])
    assert name_under(feed, x, y) is None
    rest_at(feed, x, y)
    load_more.focus()
    feed.keyboard.press("Enter")
    expect(feed.locator("#feed-items .post")).to_have_count(25)
    assert_the_hover_update_opens_nothing(feed, requests, x, y, "erin")


@pytest.mark.parametrize("scroll", ["wheel", "PageDown"])
def test_scrolling_under_a_still_pointer_opens_nothing(long_feed: Page, scroll: str) -> None:
    feed = long_feed
    requests = card_requests(feed)
    # How far one scroll goes, measured and undone; then a spot that is no name now and
    # will be one after that scroll.
    distance = scroll_and_settle(feed, scroll)
    feed.evaluate("window.scrollTo(0, 0)")
    for link in feed.locator("#feed-items .user-link").all():
        box = link.bounding_box()
        x, y = box["x"] + 4, box["y"] + box["height"] / 2 - distance
        if 0 < y < feed.viewport_size["height"] and name_under(feed, x, y) is None:
            name = link.text_content()
            break
    else:
        pytest.fail("no name is one scroll below a spot without a name")
    rest_at(feed, x, y)
    assert scroll_and_settle(feed, scroll) == distance
    assert_the_hover_update_opens_nothing(feed, requests, x, y, name)


@pytest.mark.parametrize("scroll", ["wheel", "PageDown"])
def test_scrolling_closes_an_open_card(long_feed: Page, scroll: str) -> None:
    feed = long_feed
    requests = card_requests(feed)
    point_at(feed, name_link(feed, "erin"))
    open_card(feed)
    scroll_and_settle(feed, scroll)
    expect(feed.locator(CARD)).to_have_count(0)
    feed.wait_for_timeout(900)
    expect(feed.locator(CARD)).to_have_count(0)  # and nothing opens under the still pointer
    assert len(requests) == 1


# The keyboard ---------------------------------------------------------------------------------


def test_keyboard_only_follow_then_escape_returns_to_the_name(
    feed: Page, app: Flask, people: dict[str, int]
) -> None:
    name = tab_to_a_name(feed)
    expect(name).to_have_text("bob")
    card = open_card(feed)  # at once: no intent delay for the keyboard
    feed.keyboard.press("Tab")
    # The card's first control: its name. The avatar beside it is the same link, out of the
    # tab order, so the next Tab is Follow.
    expect(card.locator(".card-name a")).to_be_focused()
    expect(card.locator(".card-avatar")).to_have_attribute("tabindex", "-1")
    feed.keyboard.press("Tab")
    expect(card.get_by_role("button", name="Follow")).to_be_focused()
    feed.keyboard.press("Enter")
    expect(card).to_contain_text("1 follower")
    # The button changed under focus: focus stays with it, inside the card.
    expect(card.get_by_role("button", name="Unfollow")).to_be_focused()
    with app.app_context():
        assert db.session.get(User, people["bob"]).follower_count == 1
    feed.keyboard.press("Escape")
    expect(feed.locator(CARD)).to_have_count(0)
    expect(name_link(feed, "bob")).to_be_focused()
    feed.wait_for_timeout(600)
    expect(feed.locator(CARD)).to_have_count(0)  # focus coming back did not reopen it


def test_escape_inside_the_card_returns_focus_to_the_name(feed: Page) -> None:
    bob = tab_to_a_name(feed)
    card = open_card(feed)
    feed.keyboard.press("Tab")
    expect(card.locator(".card-name a")).to_be_focused()
    feed.keyboard.press("Escape")
    expect(feed.locator(CARD)).to_have_count(0)
    expect(bob).to_be_focused()
    # Tab goes on from the name, as if the card had never been there: to the comment's time
    # (a link to its page), its Reply link, then the next name.
    feed.keyboard.press("Tab")
    expect(feed.locator("#feed-items .post-time:focus")).to_have_count(1)
    expect(feed.locator(CARD)).to_have_count(0)
    feed.keyboard.press("Tab")
    feed.keyboard.press("Tab")
    expect(open_card(feed)).to_contain_text("Carol writes compilers.")


def test_shift_tab_from_the_card_goes_back_to_the_name(feed: Page) -> None:
    bob = tab_to_a_name(feed)
    card = open_card(feed)
    feed.keyboard.press("Tab")
    expect(card.locator(".card-name a")).to_be_focused()
    feed.keyboard.press("Shift+Tab")
    expect(bob).to_be_focused()
    expect(feed.locator(CARD)).to_have_count(1)
    expect(card).to_be_visible()  # still open: the name and its card are one place


def test_tab_past_the_card_moves_on_and_closes_it(feed: Page) -> None:
    tab_to_a_name(feed)
    open_card(feed)
    feed.keyboard.press("Tab")  # the card's name
    feed.keyboard.press("Tab")  # Follow
    feed.keyboard.press("Tab")  # out of the card: the comment's time, a link to its page
    expect(feed.locator("#feed-items .post-time:focus")).to_have_count(1)
    expect(feed.locator(CARD)).to_have_count(0)
    feed.keyboard.press("Tab")  # its Reply link
    feed.keyboard.press("Tab")  # the next name
    expect(name_link(feed, "carol")).to_be_focused()
    expect(open_card(feed)).to_contain_text("Carol writes compilers.")
    expect(feed.locator(CARD)).to_have_count(1)


FOCUS_RING = """element => ({
  visible: element.matches(":focus-visible"),
  outline: getComputedStyle(element).outlineStyle,
})"""


def test_focus_rings_show_for_the_keyboard_only(feed: Page) -> None:
    bob = tab_to_a_name(feed)
    assert bob.evaluate(FOCUS_RING) == {"visible": True, "outline": "solid"}
    feed.keyboard.press("Escape")
    # The pointer now: a click on Follow focuses the button, and its replacement, ringless.
    point_at(feed, name_link(feed, "carol"))
    card = open_card(feed)
    expect(card).to_contain_text("Carol writes compilers.")
    card.get_by_role("button", name="Follow").click()
    unfollow = card.get_by_role("button", name="Unfollow")
    expect(unfollow).to_be_focused()
    assert unfollow.evaluate(FOCUS_RING) == {"visible": False, "outline": "none"}


# Motion ---------------------------------------------------------------------------------------


def test_the_card_fades_in_unless_reduced_motion_is_asked_for(
    browser: Browser,
    live_server: LiveServer,
    console_errors: ConsoleErrors,
    people: dict[str, int],
) -> None:
    for motion, duration in (("no-preference", "0.3s"), ("reduce", "0s")):
        with browser_page(browser, live_server, console_errors, reduced_motion=motion) as page:
            log_in(page, "alice", PASSWORD)
            point_at(page, name_link(page, "bob"))
            card = open_card(page)
            expect(card).to_have_css("transition-duration", duration)
            page.keyboard.press("Escape")
            expect(page.locator(CARD)).to_have_count(0)


# The switch: Settings > Profile cards ---------------------------------------------------------


def switch_cards(app: Flask, username: str, on: bool) -> None:
    with app.app_context():
        db.session.execute(
            update(User).where(User.username_canon == username).values(show_hovercards=on)
        )
        db.session.commit()


def test_with_cards_off_names_are_plain_links_and_no_card_is_ever_asked_for(
    page: Page, app: Flask, people: dict[str, int], live_server: LiveServer
) -> None:
    switch_cards(app, "alice", on=False)
    log_in(page, "alice", PASSWORD)
    requests = card_requests(page)
    expect(page.locator("#feed-items .user-link")).to_have_count(3)
    # (Names only: Edit and Reply links carry htmx attributes too, and open no card.)
    plain = (
        "#feed-items [data-hovercard], #feed-items .user-link[hx-get], #feed-items [aria-haspopup]"
    )
    expect(page.locator(plain)).to_have_count(0)
    # Pointing, a comment of one's own (swapped in by htmx), the keyboard: still nothing.
    for name in ("bob", "carol"):
        point_at(page, name_link(page, name))
        page.wait_for_timeout(700)
    page.locator("#body").fill("Cards are off")
    page.get_by_role("button", name="Post").click()
    expect(page.locator("#feed-items .post").first).to_contain_text("Cards are off")
    expect(page.locator(plain)).to_have_count(0)
    point_at(page, name_link(page, "alice"))
    page.wait_for_timeout(700)
    page.locator("#body").focus()
    tab_to_a_name(page)
    page.wait_for_timeout(300)
    # A profile's comments too.
    page.goto("/user/bob")
    expect(page.locator("#feed-items .user-link")).to_have_count(1)
    expect(page.locator(plain)).to_have_count(0)
    point_at(page, page.locator("#feed-items .user-link"))
    page.wait_for_timeout(700)
    expect(page.locator(CARD)).to_have_count(0)
    assert requests == []
    assert not [path for path in live_server.paths if path.endswith("/popup")]


def test_the_settings_switch_turns_cards_off_and_on(page: Page, people: dict[str, int]) -> None:
    log_in(page, "alice", PASSWORD)
    section = page.locator("#cards")

    def switch(on: bool, notice: str) -> None:
        page.goto("/settings")
        box = section.get_by_label("Show profile cards when I hover a name")
        expect(box).to_be_checked(checked=not on)
        box.set_checked(on)
        section.get_by_role("button", name="Save").click()
        expect(section).to_contain_text(notice)
        expect(box).to_be_checked(checked=on)

    switch(False, "Profile cards are off")
    page.goto("/")
    expect(page.locator("#feed-items .user-link")).to_have_count(3)
    expect(page.locator("#feed-items [data-hovercard]")).to_have_count(0)
    switch(True, "Profile cards are on.")
    page.goto("/")
    expect(page.locator("#feed-items [data-hovercard]")).to_have_count(3)
    point_at(page, name_link(page, "bob"))
    expect(open_card(page)).to_contain_text("Bob bakes bread.")


def test_the_card_says_how_they_relate_to_you(
    feed: Page, app: Flask, people: dict[str, int], live_server: LiveServer
) -> None:
    with app.app_context():
        follow(people["carol"], people["alice"])  # carol follows alice...
        follow(people["alice"], people["carol"])  # ...and alice follows carol, who
        follow(people["carol"], people["bob"])  # follows bob
    feed.reload()
    point_at(feed, name_link(feed, "carol"))
    expect(open_card(feed).locator(".card-relation")).to_have_text("You follow each other")
    feed.mouse.move(5, 5)
    expect(feed.locator(CARD)).to_have_count(0, timeout=1500)
    point_at(feed, name_link(feed, "bob"))
    relation = open_card(feed).locator(".card-relation")
    expect(relation).to_have_text("Followed by carol")
    avatar = relation.get_by_role("link", name="carol")
    assert avatar.locator("img").bounding_box()["width"] == 20
    # A plain link: pointing at it opens no card of its own, and it leads to the profile.
    point_at(feed, avatar)
    feed.wait_for_timeout(700)
    expect(feed.locator(CARD)).to_have_count(1)
    expect(feed.locator(CARD)).to_contain_text("Followed by carol")
    assert popup_requests(live_server, "carol") == 1
    avatar.click()
    feed.wait_for_url("**/user/carol")
