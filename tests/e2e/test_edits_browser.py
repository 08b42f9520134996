"""Editing and deleting one's comment in a real browser: in place with htmx (Save, Cancel,
Undo, the notice running out) and as plain pages and forms with JavaScript off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask
from playwright.sync_api import Browser
from playwright.sync_api import Locator
from playwright.sync_api import Page
from playwright.sync_api import expect
from sqlalchemy import update

from tests.conftest import PASSWORD
from tests.conftest import add_posts
from tests.conftest import make_user
from tests.conversation.test_edits import assert_counters_match_recount
from tests.conversation.test_edits import post_count
from tests.conversation.test_edits import row
from tests.e2e.conftest import ConsoleErrors
from tests.e2e.conftest import LiveServer
from tests.e2e.conftest import browser_page
from tests.e2e.conftest import log_in
from tests.e2e.test_accessibility import audit
from webapp.conversation import edits
from webapp.conversation.models import Post
from webapp.core.extensions import db
from webapp.core.timeutil import utcnow

pytestmark = pytest.mark.browser

ORIGINAL = "alice was here"


@pytest.fixture
def people(app: Flask) -> dict[str, int]:
    """Alice (who logs in) and Bob, each with a comment; Bob's is the newest."""
    ids = {"alice": make_user(app, "alice"), "bob": make_user(app, "bob")}
    ids["alice_post"] = add_posts(app, ids["alice"], [ORIGINAL])[0]
    ids["bob_post"] = add_posts(app, ids["bob"], ["bob's comment"])[0]
    return ids


def comment(page: Page, post_id: int) -> Locator:
    return page.locator(f"#post-{post_id}")


def test_edit_in_place_and_save(page: Page, app: Flask, people: dict[str, int]) -> None:
    log_in(page, "alice", PASSWORD)
    mine = comment(page, people["alice_post"])
    expect(comment(page, people["bob_post"]).get_by_role("link", name="Edit")).to_have_count(0)
    mine.get_by_role("link", name="Edit").click()
    field = mine.get_by_label("Edit your comment")
    expect(field).to_have_value(ORIGINAL)
    expect(field).to_be_focused()
    assert audit(page) == []
    field.fill("alice was here, and @bob too")
    mine.get_by_role("button", name="Save").click()

    expect(mine.locator(".post-body")).to_have_text("alice was here, and @bob too")
    expect(mine.get_by_role("link", name="bob")).to_have_attribute("href", "/user/bob")
    edited = mine.locator(".edited")
    expect(edited).to_have_text("edited")
    stored = row(app, people["alice_post"])
    assert stored.body == "alice was here, and @bob too"
    expect(edited).to_have_attribute("title", f"Edited {stored.edited_at:%Y-%m-%d %H:%M} UTC")
    expect(field).to_have_count(0)
    expect(mine.get_by_role("link", name="Edit")).to_be_focused()  # where the person was
    assert page.url.endswith("/")  # no page load: swapped in place
    page.reload()
    expect(comment(page, people["alice_post"]).locator(".edited")).to_be_visible()


def test_edit_and_cancel(page: Page, app: Flask, people: dict[str, int]) -> None:
    log_in(page, "alice", PASSWORD)
    mine = comment(page, people["alice_post"])
    mine.get_by_role("link", name="Edit").click()
    mine.get_by_label("Edit your comment").fill("never mind")
    mine.get_by_role("link", name="Cancel").click()
    expect(mine.locator(".post-body")).to_have_text(ORIGINAL)
    expect(mine.get_by_label("Edit your comment")).to_have_count(0)
    expect(mine.get_by_role("link", name="Edit")).to_be_focused()
    assert page.url.endswith("/")
    stored = row(app, people["alice_post"])
    assert stored.body == ORIGINAL and stored.edited_at is None


def test_saving_too_late_keeps_the_text_and_says_why(
    page: Page, app: Flask, people: dict[str, int], console_errors: ConsoleErrors
) -> None:
    log_in(page, "alice", PASSWORD)
    mine = comment(page, people["alice_post"])
    mine.get_by_role("link", name="Edit").click()
    # The person took their time: the comment is past its 15 minutes when they save.
    with app.app_context():
        db.session.execute(
            update(Post)
            .where(Post.id == people["alice_post"])
            .values(timestamp=utcnow() - timedelta(minutes=16))
        )
        db.session.commit()
    console_errors.expect_status(422, f"/c/{people['alice_post']}/edit")
    mine.get_by_label("Edit your comment").fill("my long considered words")
    mine.get_by_role("button", name="Save").click()
    expect(mine.get_by_role("alert")).to_have_text(edits.TOO_LATE_TO_EDIT)
    expect(mine.get_by_label("Edit your comment")).to_have_value("my long considered words")
    assert row(app, people["alice_post"]).body == ORIGINAL


def test_delete_and_undo(page: Page, app: Flask, people: dict[str, int]) -> None:
    log_in(page, "alice", PASSWORD)
    mine = comment(page, people["alice_post"])
    mine.get_by_role("button", name="Delete").click()
    notice = page.get_by_role("status").filter(has_text="Comment deleted")
    expect(notice).to_be_visible()
    expect(page.get_by_text(ORIGINAL)).to_have_count(0)
    assert post_count(app, people["alice"]) == 0
    assert audit(page) == []
    # Focus left with the Delete button: it is on Undo now, not at the top of the page.
    expect(notice.get_by_role("button", name="Undo")).to_be_focused()
    notice.get_by_role("button", name="Undo").click()

    expect(mine.locator(".post-body")).to_have_text(ORIGINAL)
    expect(notice).to_have_count(0)
    expect(mine.get_by_role("button", name="Delete")).to_be_focused()  # as before Delete
    assert row(app, people["alice_post"]).deleted_at is None
    assert post_count(app, people["alice"]) == 1
    assert_counters_match_recount(app)
    page.reload()
    expect(comment(page, people["alice_post"]).locator(".post-body")).to_have_text(ORIGINAL)


def test_delete_and_let_the_notice_run_out(
    page: Page, app: Flask, people: dict[str, int], live_server: LiveServer
) -> None:
    page.clock.install()
    log_in(page, "alice", PASSWORD)
    comment(page, people["alice_post"]).get_by_role("button", name="Delete").click()
    notice = page.get_by_role("status").filter(has_text="Comment deleted")
    expect(notice).to_be_visible()
    page.clock.run_for(9_000)
    expect(notice).to_be_visible()
    page.clock.run_for(2_000)  # past the notice's 10 seconds
    expect(notice).to_have_count(0)
    expect(page.locator(f"#post-{people['alice_post']}")).to_have_count(0)
    assert f"/c/{people['alice_post']}/item" in live_server.paths
    expect(comment(page, people["bob_post"])).to_be_visible()
    page.reload()
    expect(page.get_by_text(ORIGINAL)).to_have_count(0)
    assert post_count(app, people["alice"]) == 0
    assert_counters_match_recount(app)


def test_edit_delete_and_undo_without_javascript(
    browser: Browser,
    live_server: LiveServer,
    console_errors: ConsoleErrors,
    app: Flask,
    people: dict[str, int],
) -> None:
    post_id = people["alice_post"]
    with browser_page(browser, live_server, console_errors, java_script_enabled=False) as page:
        log_in(page, "alice", PASSWORD)
        page.goto("/user/alice")
        comment(page, post_id).get_by_role("link", name="Edit").click()
        page.wait_for_url(f"**/c/{post_id}/edit")
        expect(page.get_by_role("heading", name="Edit your comment")).to_be_visible()
        page.get_by_label("Edit your comment").fill("edited without scripts")
        page.get_by_role("button", name="Save").click()

        # Back where the person was, at the comment.
        page.wait_for_url(f"**/user/alice#post-{post_id}")
        expect(page.get_by_text("Your comment was updated.")).to_be_visible()
        mine = comment(page, post_id)
        expect(mine.locator(".post-body")).to_have_text("edited without scripts")
        expect(mine.locator(".edited")).to_be_visible()

        mine.get_by_role("button", name="Delete").click()
        page.wait_for_url("**/user/alice")
        flash = page.locator(".flash").filter(has_text="Comment deleted.")
        expect(flash).to_be_visible()
        expect(page.get_by_text("edited without scripts")).to_have_count(0)
        assert post_count(app, people["alice"]) == 0
        flash.get_by_role("button", name="Undo").click()

        page.wait_for_url(f"**/user/alice#post-{post_id}")
        expect(page.get_by_text("Comment restored.")).to_be_visible()
        expect(comment(page, post_id).locator(".post-body")).to_have_text("edited without scripts")
        assert post_count(app, people["alice"]) == 1
        assert_counters_match_recount(app)
