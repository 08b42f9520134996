"""The live feed in a real browser: "N new comments" (two people, two browser contexts),
times that stay current, the character count, and the same pages without JavaScript.

Time is Playwright's fake clock (page.clock): the 20-second check and the 30-second time
refresh run when the test moves the clock on, not after real waits. The page being hidden
is a document.visibilityState override and a visibilitychange event, the two things a
browser changes when a tab goes to the background (headless Chromium never hides a page by
itself); the glue reads nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import Locator
from playwright.sync_api import Page
from playwright.sync_api import expect

from tests.conftest import PASSWORD
from tests.conftest import add_posts
from tests.conftest import make_user
from tests.e2e.conftest import ConsoleErrors
from tests.e2e.conftest import LiveServer
from tests.e2e.conftest import browser_page
from tests.e2e.conftest import log_in
from tests.e2e.conftest import wait_until
from tests.e2e.conftest import wait_until_still
from webapp.core.templating import relative_time
from webapp.core.timeutil import utcnow

pytestmark = pytest.mark.browser

CHECK = "/feed/new"
POLL_MS = 20_000
NEW_BUTTON = "#new-comments-button"

HIDE = """() => {
  Object.defineProperty(document, "visibilityState", {configurable: true, get: () => "hidden"});
  document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW = """() => {
  delete document.visibilityState;  // the prototype's getter again: "visible"
  document.dispatchEvent(new Event("visibilitychange"));
}"""

# The first comment of the feed whose box is (partly) on screen: what the reader looks at.
FIRST_ON_SCREEN = """() => {
  const items = [...document.querySelectorAll("#feed-items > .thread")];
  return items.find(item => item.getBoundingClientRect().bottom > 0).id;
}"""


@pytest.fixture
def people(app: Flask) -> dict[str, int]:
    """Alice reads, Bob writes; Carol wrote a long feed an hour ago."""
    ids = {name: make_user(app, name) for name in ("alice", "bob", "carol")}
    start = utcnow() - timedelta(hours=1)
    for n in range(30):
        body = f"Comment {n} by Carol.\n" + "A line to make the feed long enough to scroll. " * 3
        add_posts(app, ids["carol"], [body], timestamp=start + timedelta(seconds=n))
    return ids


@pytest.fixture
def reader(
    browser: Browser, live_server: LiveServer, console_errors: ConsoleErrors
) -> Iterator[Page]:
    with browser_page(browser, live_server, console_errors) as page:
        page.clock.install()
        yield page


def checks(server: LiveServer) -> int:
    return server.paths.count(CHECK)


def poll_once(page: Page) -> int:
    """Move the clock on by one poll interval; the status of the check that it makes."""
    with page.expect_response(lambda response: CHECK + "?" in response.url) as answer:
        page.clock.run_for(POLL_MS)
    return answer.value.status


def top_of(locator: Locator) -> float:
    box = locator.bounding_box()
    assert box is not None
    return box["y"]


def post_through_the_form(page: Page, body: str) -> None:
    page.get_by_label("Say something").fill(body)
    page.get_by_role("button", name="Post").click()
    expect(page.locator("#feed-items .post").first).to_contain_text(body)


@pytest.mark.usefixtures("people")
def test_new_comments_come_in_above_without_moving_the_view(
    app: Flask,
    browser: Browser,
    live_server: LiveServer,
    console_errors: ConsoleErrors,
    reader: Page,
    people: dict[str, int],
) -> None:
    log_in(reader, "alice", PASSWORD)
    expect(reader.locator(NEW_BUTTON)).to_have_count(0)
    reader.mouse.wheel(0, 900)
    wait_until(reader, "() => window.scrollY >= 900")
    wait_until_still(reader)
    looked_at = reader.locator("#" + reader.evaluate(FIRST_ON_SCREEN))

    # Bob posts through his own browser; two more come from elsewhere (another instance).
    with browser_page(browser, live_server, console_errors) as writer:
        log_in(writer, "bob", PASSWORD)
        post_through_the_form(writer, "Bob was here")
    add_posts(app, people["bob"], ["Bob again", "Bob, third"])
    # Alice's own comment (from another tab) is not news to her.
    add_posts(app, people["alice"], ["Alice elsewhere"])

    before = checks(live_server)
    assert poll_once(reader) == 200
    button = reader.locator(NEW_BUTTON)
    expect(button).to_have_text("3 new comments")
    assert checks(live_server) == before + 1
    expect(button).to_be_in_viewport()  # it floats at the top of the screen
    expect(reader.locator("#new-comments")).to_have_attribute("role", "status")

    y_before = top_of(looked_at)
    scroll_before = reader.evaluate("window.scrollY")
    button.click()
    first = reader.locator("#feed-items > .thread").first
    expect(first).to_contain_text("Bob, third")
    expect(reader.locator(NEW_BUTTON)).to_have_count(0)
    assert abs(top_of(looked_at) - y_before) <= 2
    assert reader.evaluate("window.scrollY") > scroll_before  # the page grew above
    texts = reader.locator("#feed-items > .thread > .post .post-body").all_inner_texts()
    assert texts[:3] == ["Bob, third", "Bob again", "Bob was here"]
    # Keyboard focus was on the button, which is gone: it is on the first new comment.
    assert reader.evaluate("document.activeElement.id") == first.get_attribute("id")

    # The cursor moved on: the next checks find nothing (204) and show nothing.
    assert poll_once(reader) == 204
    assert poll_once(reader) == 204
    assert checks(live_server) == before + 3
    expect(reader.locator(NEW_BUTTON)).to_have_count(0)
    add_posts(app, people["bob"], ["One more"])
    assert poll_once(reader) == 200
    expect(reader.locator(NEW_BUTTON)).to_have_text("1 new comment")


@pytest.mark.usefixtures("people")
def test_at_the_top_the_new_comments_show(
    app: Flask, live_server: LiveServer, reader: Page, people: dict[str, int]
) -> None:
    log_in(reader, "alice", PASSWORD)
    add_posts(app, people["bob"], ["Fresh"])
    assert poll_once(reader) == 200
    reader.locator(NEW_BUTTON).click()
    first = reader.locator("#feed-items > .thread").first
    expect(first).to_contain_text("Fresh")
    expect(first).to_be_in_viewport()
    # Its card works like any other.
    expect(first.locator(".user-link")).to_have_attribute("data-hovercard", "")


@pytest.mark.usefixtures("people")
def test_no_check_while_the_page_is_hidden(
    app: Flask, live_server: LiveServer, reader: Page, people: dict[str, int]
) -> None:
    log_in(reader, "alice", PASSWORD)
    reader.evaluate(HIDE)
    add_posts(app, people["bob"], ["While you were away"])
    before = checks(live_server)
    reader.clock.run_for(3 * POLL_MS)
    reader.wait_for_timeout(300)  # room for a request that should not happen
    assert checks(live_server) == before
    expect(reader.locator(NEW_BUTTON)).to_have_count(0)
    # Back after a minute away: the check runs at once, not up to 20 seconds later.
    reader.evaluate(SHOW)
    expect(reader.locator(NEW_BUTTON)).to_have_text("1 new comment")
    assert checks(live_server) == before + 1


@pytest.mark.usefixtures("people")
def test_a_short_absence_waits_for_the_next_check(live_server: LiveServer, reader: Page) -> None:
    log_in(reader, "alice", PASSWORD)
    reader.evaluate(HIDE)
    reader.clock.run_for(5_000)
    before = checks(live_server)
    reader.evaluate(SHOW)
    reader.wait_for_timeout(300)
    assert checks(live_server) == before
    assert poll_once(reader) == 204
    assert checks(live_server) == before + 1


# Times that stay current ---------------------------------------------------------------------


def test_just_now_becomes_two_min_ago_without_a_reload(
    app: Flask, browser: Browser, live_server: LiveServer, console_errors: ConsoleErrors
) -> None:
    bob = make_user(app, "bob")
    make_user(app, "alice")
    with browser_page(browser, live_server, console_errors, timezone_id="America/New_York") as page:
        page.clock.install()
        log_in(page, "alice", PASSWORD)
        add_posts(app, bob, ["Just posted"])
        page.reload()
        time_ = page.locator("#feed-items .post time").first
        expect(time_).to_have_text("just now")
        # The title is the moment in the reader's own time zone, not the server's UTC.
        moment = datetime.fromisoformat(time_.get_attribute("datetime") or "")
        local = moment.astimezone(ZoneInfo("America/New_York"))
        title = time_.get_attribute("title") or ""
        assert "UTC" not in title and local.strftime("%-I:%M") in title, title
        page.clock.fast_forward("02:00")
        expect(time_).to_have_text("2 min ago")
        page.clock.fast_forward("03:00")
        expect(time_).to_have_text("5 min ago")


# Ages either side of every step of the wording, in seconds.
AGES = [0, 30, 59, 60, 119, 120, 3599, 3600, 7199, 7200, 86399, 86400, 2 * 86400]
AGES += [7 * 86400 - 1, 7 * 86400, 14 * 86400, 30 * 86400, 61 * 86400, 365 * 86400]
AGES += [800 * 86400]


@pytest.mark.usefixtures("people")
def test_the_browser_words_every_age_as_the_server_does(reader: Page) -> None:
    log_in(reader, "alice", PASSWORD)
    now = (utcnow() + timedelta(minutes=1)).replace(microsecond=123456)
    reader.clock.pause_at(now)  # Date.now() is exactly `now` from here on
    moments = [now - timedelta(seconds=age) for age in AGES]
    html = "".join(
        f'<p><time datetime="{moment.isoformat()}" data-relative>?</time></p>' for moment in moments
    )
    # As htmx brings content in (htmx.swap runs what htmx.onLoad registered).
    reader.evaluate("html => htmx.swap('#feed-items', html, {swapStyle: 'afterbegin'})", html)
    times = reader.locator("#feed-items > p time")
    assert times.all_inner_texts() == [relative_time(moment, now) for moment in moments]
    # Each got its title, in the reader's time zone (this browser's: UTC, so no hours to
    # compare, but the local format, not the server's).
    titles = [times.nth(n).get_attribute("title") or "" for n in range(len(AGES))]
    assert all(title and not title.endswith("UTC") for title in titles), titles


# Writing: the character count ------------------------------------------------------------


def counter_of(field: Locator) -> tuple[Locator, Locator]:
    """The count shown under a field, and its live region for screen readers."""
    count = field.locator("xpath=following-sibling::p[contains(@class, 'char-count')]")
    return count.locator(".char-count-number"), count.locator("[aria-live=polite]")


@pytest.mark.usefixtures("people")
def test_the_count_follows_the_text_and_speaks_only_near_the_limit(page: Page) -> None:
    log_in(page, "alice", PASSWORD)
    field = page.get_by_label("Say something")
    shown, spoken = counter_of(field)
    expect(shown).to_have_text("0/280")
    expect(page.get_by_text("At most 280 characters")).to_be_visible()
    field.fill("héllo 🙂\r\nbye")  # code points, and a line break is one character
    expect(shown).to_have_text("11/280")
    field.press_sequentially("!!")
    expect(shown).to_have_text("13/280")
    expect(spoken).to_have_text("")  # far from the limit: nothing is read out
    field.fill("a" * 259)
    expect(shown).to_have_text("259/280")
    expect(spoken).to_have_text("")
    field.fill("a" * 260)
    expect(spoken).to_have_text("20 characters left")
    field.fill("a" * 265)  # the same step: it is not read out again
    expect(shown).to_have_text("265/280")
    expect(spoken).to_have_text("20 characters left")
    field.fill("a" * 271)
    expect(spoken).to_have_text("9 characters left")
    field.fill("  " + "a" * 280 + "\n")  # outer space is not counted, as on the server
    expect(shown).to_have_text("280/280")
    field.fill("a" * 281)
    expect(spoken).to_have_text("1 character over the limit")
    expect(shown).to_have_text("281/280")
    expect(shown.locator("..")).to_have_class(re.compile(r"\bover\b"))
    field.fill("a" * 100)
    expect(spoken).to_have_text("")


@pytest.mark.usefixtures("people")
def test_an_over_long_comment_is_refused_with_its_text_kept(
    page: Page, console_errors: ConsoleErrors
) -> None:
    console_errors.expect_status(422, "/")  # the form with its error
    log_in(page, "alice", PASSWORD)
    field = page.get_by_label("Say something")
    field.fill("b" * 300)  # nothing cuts it: no maxlength
    expect(field).to_have_value("b" * 300)
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_text("Comments are at most 280 characters (300 now).")).to_be_visible()
    field = page.get_by_label("Say something")
    expect(field).to_have_value("b" * 300)
    # The form htmx put back has its own count.
    shown, _ = counter_of(field)
    expect(shown).to_have_text("300/280")


@pytest.mark.usefixtures("people")
def test_about_me_over_the_limit_shows_the_error_and_keeps_the_text(
    page: Page, console_errors: ConsoleErrors
) -> None:
    console_errors.expect_status(422, "/settings/profile")
    log_in(page, "alice", PASSWORD)
    page.goto("/settings")
    field = page.get_by_label("About me")
    expect(page.locator("#about_me-help")).to_have_text("At most 280 characters")
    text = "Tea and hover cards. " * 15  # 315 characters, 314 once trimmed
    field.fill(text)
    expect(field).to_have_value(text)
    shown, spoken = counter_of(field)
    expect(shown).to_have_text("314/280")
    expect(spoken).to_have_text("34 characters over the limit")
    page.locator("#profile").get_by_role("button", name="Save").click()
    expect(page.get_by_text("About me is at most 280 characters (314 now).")).to_be_visible()
    field = page.get_by_label("About me")
    expect(field).to_have_value(text.strip())
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(counter_of(field)[0]).to_have_text("314/280")


# Without JavaScript ----------------------------------------------------------------------


@pytest.mark.usefixtures("people")
def test_without_javascript_the_feed_posting_and_the_limits_work(
    browser: Browser, live_server: LiveServer, console_errors: ConsoleErrors
) -> None:
    console_errors.expect_status(422, "/settings/profile")  # the page with the error
    with browser_page(browser, live_server, console_errors, java_script_enabled=False) as page:
        log_in(page, "alice", PASSWORD)
        expect(page.locator("#feed-items .post")).to_have_count(20)
        expect(page.get_by_text("At most 280 characters")).to_be_visible()
        expect(page.locator(".char-count")).to_be_hidden()
        expect(page.locator(NEW_BUTTON)).to_have_count(0)
        # The server's UTC title stays.
        title = page.locator("#feed-items .post time").first.get_attribute("title")
        assert (title or "").endswith("UTC")
        page.get_by_label("Say something").fill("No script needed")
        page.get_by_role("button", name="Post").click()
        expect(page.get_by_text("Your comment is live.")).to_be_visible()
        expect(page.locator("#feed-items .post").first).to_contain_text("No script needed")
        page.goto("/settings")
        expect(page.locator("#about_me-help")).to_have_text("At most 280 characters")
        page.get_by_label("About me").fill("z" * 290)
        page.locator("#profile").get_by_role("button", name="Save").click()
        expect(page.get_by_text("About me is at most 280 characters (290 now).")).to_be_visible()
        expect(page.get_by_label("About me")).to_have_value("z" * 290)


@pytest.mark.usefixtures("people")
def test_a_session_ended_elsewhere_stops_the_checks_and_keeps_the_page(
    browser: Browser, live_server: LiveServer, console_errors: ConsoleErrors, reader: Page
) -> None:
    """Logged out in another tab while writing: the next check is refused (401), and the
    reader stays on the page with their draft (no redirect to the login page for a poll);
    no more checks are made."""
    log_in(reader, "alice", PASSWORD)
    reader.get_by_label("Say something").fill("A draft worth keeping")
    reader.context.clear_cookies()  # what logging out elsewhere does to this tab's session
    console_errors.expect_status(401, CHECK)
    assert poll_once(reader) == 401
    before = checks(live_server)
    reader.clock.run_for(3 * POLL_MS)
    assert checks(live_server) == before
    assert reader.url == live_server.url + "/"
    expect(reader.get_by_label("Say something")).to_have_value("A draft worth keeping")
