"""An accessibility audit with axe-core: no violation of the WCAG 2.1 A and AA rules on any
page a person meets, in the light colour scheme and in the dark one.

axe-core is kept with the tests (tests/e2e/vendor/axe-core/, see its README) and never
served by the app. It is evaluated in the page through the DevTools protocol, which the
page's Content-Security-Policy does not govern: the CSP stays exactly as the app sends it
(no bypass_csp), and browser_page still fails the test on any CSP violation, so axe is
known to run without needing anything the policy forbids.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import Page
from playwright.sync_api import expect
from sqlalchemy import delete
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.conftest import add_posts
from tests.conftest import make_user
from tests.conversation.test_threads import add_replies
from tests.e2e.conftest import ConsoleErrors
from tests.e2e.conftest import LiveServer
from tests.e2e.conftest import browser_page
from tests.e2e.conftest import log_in
from tests.e2e.test_hovercards import CARD
from tests.e2e.test_hovercards import name_link
from tests.e2e.test_hovercards import open_card
from tests.e2e.test_hovercards import point_at
from webapp.accounts.models import User
from webapp.conversation.models import Post
from webapp.core.extensions import db

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
WCAG_21_A_AND_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

# Each violation as "id (impact): help", then one line per element it was found on.
AUDIT = """async tags => {
  const results = await axe.run(document, {runOnly: {type: "tag", values: tags}});
  return results.violations.map(v =>
    `${v.id} (${v.impact}): ${v.help}\\n`
    + v.nodes.map(n => `    ${n.target.join(" ")}\\n      ${n.failureSummary || ""}`)
      .join("\\n"));
}"""


# axe leaves some of the open card's text undecided ("incomplete", not a pass): the popover
# lies over the feed, and for text on two lines axe compares everything under each line down
# to the page, feed boxes included, so it cannot tell which background counts. The card's
# own text is measured here against the card's own background, as 1.4.3 asks (4.5:1).
CARD_TEXT_CONTRAST = """box => {
  const channels = colour => colour.match(/[\\d.]+/g).map(Number);
  const luminance = colour => {
    const [r, g, b] = channels(colour).slice(0, 3).map(v => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const opaque = colour => (channels(colour)[3] ?? 1) === 1;
  const failures = [];
  const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const text = walker.currentNode.textContent.trim();
    if (!text) continue;
    const element = walker.currentNode.parentElement;
    let under = element;
    while (under !== box && getComputedStyle(under).backgroundColor === "rgba(0, 0, 0, 0)") {
      under = under.parentElement;
    }
    const fg = getComputedStyle(element).color, bg = getComputedStyle(under).backgroundColor;
    const [hi, lo] = [luminance(fg), luminance(bg)].sort((a, b) => b - a);
    const ratio = (hi + 0.05) / (lo + 0.05);
    if (!opaque(fg) || !opaque(bg) || ratio < 4.5) {
      failures.push(`${JSON.stringify(text)}: ${fg} on ${bg}, ${ratio.toFixed(2)}:1`);
    }
  }
  return failures;
}"""


def audit(page: Page) -> list[str]:
    """Run axe-core on the page as it is now; each WCAG 2.1 A/AA violation, described."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    return page.evaluate(AUDIT, WCAG_21_A_AND_AA)


def card_text_contrast(page: Page) -> list[str]:
    """The open card's text that is not 4.5:1 against the card (see CARD_TEXT_CONTRAST)."""
    return page.locator(CARD).evaluate(CARD_TEXT_CONTRAST)


@pytest.fixture
def people(app: Flask) -> dict[str, int]:
    """Alice (who logs in), Bob and Carol, each with a comment; Bob's is the newest."""
    ids = {
        "alice": make_user(app, "alice", about_me="Reader."),
        "carol": make_user(app, "carol", about_me="Carol writes compilers."),
        "bob": make_user(app, "bob", about_me="Bob bakes bread."),
    }
    for name, id_ in ids.items():
        add_posts(app, id_, [f"{name}'s comment"])
    return ids


@dataclass
class Visit:
    """What a page's setup works with: a fresh context's page (nobody logged in yet)."""

    page: Page
    app: Flask
    server: LiveServer
    console_errors: ConsoleErrors
    people: dict[str, int]


def login_page(visit: Visit) -> None:
    visit.page.goto("/login")


def registration_page(visit: Visit) -> None:
    visit.page.goto("/register")


def registration_with_errors(visit: Visit) -> None:
    visit.console_errors.expect_status(422, "/register")  # the form with its errors
    visit.page.goto("/register")
    visit.page.get_by_label("Username").fill("x")
    visit.page.get_by_label("Email").fill("not-an-email")
    visit.page.get_by_role("button", name="Register").click()
    expect(visit.page.locator(".field-errors").first).to_be_visible()


def feed(visit: Visit) -> None:
    log_in(visit.page, "alice", PASSWORD)


def feed_with_an_open_card(visit: Visit) -> None:
    log_in(visit.page, "alice", PASSWORD)
    point_at(visit.page, name_link(visit.page, "bob"))
    open_card(visit.page)
    # Past Tippy's fade-in: half-transparent text would fail the contrast rule.
    expect(visit.page.locator(CARD)).to_have_css("opacity", "1")


def feed_with_a_loading_card(visit: Visit) -> None:
    log_in(visit.page, "alice", PASSWORD)
    visit.server.delays["/user/bob/popup"] = LOADING_SECONDS
    point_at(visit.page, name_link(visit.page, "bob"))
    expect(visit.page.locator(CARD)).to_contain_text("Loading")
    expect(visit.page.locator(CARD)).to_have_css("opacity", "1")


def feed_with_a_card_error(visit: Visit) -> None:
    log_in(visit.page, "alice", PASSWORD)
    with visit.app.app_context():  # carol is gone by the time of the hover
        db.session.execute(delete(User).where(User.id == visit.people["carol"]))
        db.session.commit()
    visit.console_errors.expect_status(404, "/user/carol/popup")
    point_at(visit.page, name_link(visit.page, "carol"))
    expect(visit.page.locator(CARD)).to_contain_text("There is no user by that name.")
    expect(visit.page.locator(CARD)).to_have_css("opacity", "1")


def feed_with_new_comments_and_a_long_text(visit: Visit) -> None:
    """The "N new comments" button (its check run by the fake clock) and a comment over
    the limit, with its count."""
    visit.page.clock.install()
    log_in(visit.page, "alice", PASSWORD)
    add_posts(visit.app, visit.people["bob"], ["news"])
    visit.page.clock.run_for(20_000)
    expect(visit.page.locator("#new-comments-button")).to_have_text("1 new comment")
    visit.page.get_by_label("Say something").fill("x" * 281)
    expect(visit.page.locator(".char-count")).to_have_class(re.compile(r"\bover\b"))


def profile(visit: Visit) -> None:
    log_in(visit.page, "alice", PASSWORD)
    visit.page.goto("/user/bob")


def thread(visit: Visit) -> None:
    """Bob's comment with replies, a reply form open in place under Carol's reply."""
    with visit.app.app_context():
        bobs = db.session.scalar(select(Post.id).where(Post.user_id == visit.people["bob"]))
    [carols] = add_replies(visit.app, visit.people["carol"], bobs, ["Carol's reply"])
    add_replies(visit.app, visit.people["alice"], bobs, ["@carol agreed"])
    log_in(visit.page, "alice", PASSWORD)
    visit.page.goto(f"/c/{bobs}")
    visit.page.locator(f"#post-{carols}").get_by_role("link", name="Reply").click()
    expect(visit.page.locator(f"#reply-form-{carols}")).to_be_visible()


def settings(visit: Visit) -> None:
    log_in(visit.page, "alice", PASSWORD)
    visit.page.goto("/settings")


# Each page in the state to audit. The issue asks for login, registration, feed, feed with an
# open card, profile and settings; the form with its errors and the card's loading and error
# states are audited too.
PAGES: dict[str, Callable[[Visit], None]] = {
    "login": login_page,
    "registration": registration_page,
    "registration-errors": registration_with_errors,
    "feed": feed,
    "feed-open-card": feed_with_an_open_card,
    "feed-card-loading": feed_with_a_loading_card,
    "feed-card-error": feed_with_a_card_error,
    "feed-new-comments-and-count": feed_with_new_comments_and_a_long_text,
    "profile": profile,
    "thread": thread,
    "settings": settings,
}
WITH_A_CARD = {"feed-open-card", "feed-card-loading", "feed-card-error"}
# Long enough for the audit to finish while the card is still loading.
LOADING_SECONDS = 5.0


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("name", list(PAGES))
def test_no_wcag_21_a_or_aa_violations(
    name: str,
    scheme: str,
    browser: Browser,
    live_server: LiveServer,
    console_errors: ConsoleErrors,
    app: Flask,
    people: dict[str, int],
) -> None:
    with browser_page(browser, live_server, console_errors, color_scheme=scheme) as page:
        PAGES[name](Visit(page, app, live_server, console_errors, people))
        dark = page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
        assert dark == (scheme == "dark")
        violations = audit(page)
        if name in WITH_A_CARD:
            violations += [f"card text contrast: {c}" for c in card_text_contrast(page)]
        if name == "feed-card-loading":
            assert "Loading" in page.locator(CARD).inner_text()  # what was audited
            # The card arrives before the context closes, so no request is cut off.
            expect(page.locator(CARD).locator(".profile-card")).to_be_visible(
                timeout=(LOADING_SECONDS + 5) * 1000
            )
    if violations:
        pytest.fail(f"{name} ({scheme}) fails WCAG 2.1 A/AA:\n" + "\n".join(violations))
