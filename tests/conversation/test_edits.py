"""Editing one's comment (15 minutes), deleting it with Undo, and purging deleted comments:
every route with and without htmx, refusals (403, 404, too late), idempotency, and the
counters equal to a recount after each step."""

from __future__ import annotations

import itertools
import re
import threading
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy import update

from tests.conftest import HTMX
from tests.conftest import add_posts
from tests.conftest import csrf_token
from tests.conftest import make_user
from tests.conversation.html import elements
from tests.workload import counter_mismatches
from webapp.accounts.models import User
from webapp.conversation import edits
from webapp.conversation.models import Post
from webapp.conversation.models import post_mention
from webapp.core.extensions import db
from webapp.core.timeutil import utcnow

# Helpers ----------------------------------------------------------------------------------


REPLY_NUMBERS = itertools.count(1)


def add_reply(app: Flask, user_id: int, parent_id: int, body: str | None = None) -> int:
    """A reply through the replies service; each a text of its own (the same text twice
    within 5 seconds would be one comment)."""
    body = body or f"a reply #{next(REPLY_NUMBERS)}"
    return add_posts(app, user_id, [body], reply_to=parent_id)[0]


def assert_counters_match_recount(app: Flask) -> None:
    """Every counter equals a recount of the live rows it counts (webapp/counters.py)."""
    with app.app_context():
        assert counter_mismatches() == 0


def row(app: Flask, post_id: int) -> Post | None:
    with app.app_context():
        post = db.session.get(Post, post_id)
        if post is not None:
            db.session.expunge(post)
        return post


def post_count(app: Flask, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(User.post_count).where(User.id == user_id))


def reply_count(app: Flask, post_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(Post.reply_count).where(Post.id == post_id))


def age(app: Flask, post_id: int, minutes: float) -> None:
    """Make the comment as old as that (posted `minutes` ago)."""
    with app.app_context():
        db.session.execute(
            update(Post)
            .where(Post.id == post_id)
            .values(timestamp=utcnow() - timedelta(minutes=minutes))
        )
        db.session.commit()


def deleted_ago(app: Flask, post_id: int, seconds: float) -> None:
    with app.app_context():
        db.session.execute(
            update(Post)
            .where(Post.id == post_id)
            .values(deleted_at=utcnow() - timedelta(seconds=seconds))
        )
        db.session.commit()


def htmx_headers(client: FlaskClient) -> dict[str, str]:
    return {**HTMX, "X-CSRFToken": csrf_token(client, "/")}


def post_form(client: FlaskClient, url: str, htmx: bool, **data: str):
    if htmx:
        return client.post(url, data=data, headers=htmx_headers(client))
    return client.post(url, data={**data, "csrf_token": csrf_token(client, "/")})


def article(html: str, post_id: int) -> str:
    start = html.index(f'id="post-{post_id}"')
    return html[start : html.index("</article>", start)]


def flash_text(client: FlaskClient, path: str = "/") -> str:
    html = client.get(path).get_data(as_text=True)
    return html[html.index('<div class="flashes"') :]


@pytest.fixture
def alice_post(app: Flask, logged_in: int) -> int:
    """Alice (logged in) has one comment, posted just now."""
    return add_posts(app, logged_in, ["A first thought from Alice"])[0]


@pytest.fixture
def bob(app: Flask) -> int:
    return make_user(app, "bob")


# Controls ---------------------------------------------------------------------------------


def test_own_comments_have_edit_and_delete_others_do_not(
    app: Flask, client: FlaskClient, alice_post: int, bob: int
) -> None:
    bobs = add_posts(app, bob, ["Bob's comment"])[0]
    html = client.get("/").get_data(as_text=True)
    mine = article(html, alice_post)
    assert f'href="/c/{alice_post}/edit"' in mine and f'hx-get="/c/{alice_post}/edit"' in mine
    assert f'action="/c/{alice_post}/delete"' in mine
    assert f'hx-post="/c/{alice_post}/delete"' in mine
    assert [b["text"] for b in elements(mine, "button")] == ["Delete"]
    theirs = article(html, bobs)
    assert "/edit" not in theirs and "/delete" not in theirs
    # The profile page has the same controls.
    profile = client.get("/user/alice").get_data(as_text=True)
    assert f'action="/c/{alice_post}/delete"' in article(profile, alice_post)


def test_edit_control_goes_after_15_minutes(app: Flask, client: FlaskClient, alice_post: int):
    age(app, alice_post, 15.5)
    mine = article(client.get("/").get_data(as_text=True), alice_post)
    assert "/edit" not in mine
    assert f'action="/c/{alice_post}/delete"' in mine  # deleting has no time limit


# Editing ----------------------------------------------------------------------------------


def test_edit_form_fragment_with_htmx(client: FlaskClient, alice_post: int) -> None:
    response = client.get(f"/c/{alice_post}/edit", headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith(f'<div class="post-content" id="post-{alice_post}-content">')
    assert "<html" not in html
    (textarea,) = elements(html, "textarea")
    assert textarea["text"].lstrip("\r\n") == "A first thought from Alice"
    assert textarea["name"] == "body"
    (form,) = elements(html, "form")
    assert form["hx-post"] == f"/c/{alice_post}/edit"
    assert form["hx-target"] == form["hx-select"] == f"#post-{alice_post}-content"
    (cancel,) = [a for a in elements(html, "a") if a["text"] == "Cancel"]
    assert cancel["hx-get"] == f"/c/{alice_post}/item"
    assert [b["value"] for b in elements(html, "input") if b.get("type") == "submit"] == ["Save"]


def test_edit_page_without_javascript(client: FlaskClient, alice_post: int) -> None:
    response = client.get(
        f"/c/{alice_post}/edit", headers={"Referer": "http://localhost/user/alice"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" in html
    (form,) = [f for f in elements(html, "form") if f.get("class") == "post-edit-form"]
    assert form["action"] == f"/c/{alice_post}/edit" and "hx-post" not in form
    (next_input,) = [i for i in elements(html, "input") if i.get("name") == "next"]
    assert next_input["value"] == "/user/alice"
    (cancel,) = [a for a in elements(html, "a") if a["text"] == "Cancel"]
    assert cancel["href"] == "/user/alice" and "hx-get" not in cancel


@pytest.mark.parametrize(
    "referrer", ["http://evil.example/user/alice", "", "http://localhost//evil.example/x"]
)
def test_edit_page_goes_back_only_to_our_own_pages(
    client: FlaskClient, alice_post: int, referrer: str
) -> None:
    html = client.get(f"/c/{alice_post}/edit", headers={"Referer": referrer}).get_data(as_text=True)
    (next_input,) = [i for i in elements(html, "input") if i.get("name") == "next"]
    assert next_input["value"] == "/"


def test_saving_an_edit_with_htmx(app: Flask, client: FlaskClient, alice_post: int) -> None:
    make_user(app, "bob")
    make_user(app, "carol")
    post_form(client, f"/c/{alice_post}/edit", True, body="thanks @bob")
    response = post_form(client, f"/c/{alice_post}/edit", True, body="thanks @carol, really")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith(f'<article class="post" id="post-{alice_post}">')
    assert f'id="post-{alice_post}-content"' in html
    assert "thanks " in html and 'href="/user/carol"' in html and "/user/bob" not in html
    edited = re.search(r'<span class="edited" title="Edited ([^"]+)">edited</span>', html)
    assert edited and edited.group(1).endswith(" UTC")
    stored = row(app, alice_post)
    assert stored.body == "thanks @carol, really" and stored.edited_at is not None
    with app.app_context():
        mentioned = db.session.scalars(
            select(User.username)
            .join(post_mention, post_mention.c.user_id == User.id)
            .where(post_mention.c.post_id == alice_post)
        ).all()
    assert mentioned == ["carol"]  # the old mention row replaced, not added to
    # Everyone sees the new text, marked edited.
    feed = client.get("/").get_data(as_text=True)
    assert 'class="edited"' in article(feed, alice_post)
    assert_counters_match_recount(app)


def test_saving_an_edit_without_javascript(app: Flask, client: FlaskClient, alice_post: int):
    response = post_form(
        client, f"/c/{alice_post}/edit", False, body="second thought", next="/user/alice"
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/user/alice#post-{alice_post}"
    assert "Your comment was updated." in flash_text(client, "/user/alice")
    assert row(app, alice_post).body == "second thought"


def test_saving_goes_back_to_the_feed_for_a_hostile_next(client: FlaskClient, alice_post: int):
    response = post_form(client, f"/c/{alice_post}/edit", False, body="x", next="//evil.example/")
    assert response.headers["Location"] == f"/#post-{alice_post}"


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write something first."),
        ("x" * 281, "Comments are at most 280 characters"),
        ("bell\x07", "control characters"),
    ],
)
def test_an_invalid_edit_keeps_the_text_and_says_why(
    app: Flask, client: FlaskClient, alice_post: int, htmx: bool, body: str, message: str
) -> None:
    response = post_form(client, f"/c/{alice_post}/edit", htmx, body=body)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert ("<html" in html) is not htmx
    assert row(app, alice_post).body == "A first thought from Alice"
    assert row(app, alice_post).edited_at is None


@pytest.mark.parametrize("htmx", [True, False])
def test_editing_after_15_minutes_is_refused_keeping_the_text(
    app: Flask, client: FlaskClient, alice_post: int, htmx: bool
) -> None:
    age(app, alice_post, 16)
    headers = HTMX if htmx else {}
    response = client.get(f"/c/{alice_post}/edit", headers=headers)
    assert response.status_code == 422
    assert edits.TOO_LATE_TO_EDIT in response.get_data(as_text=True)
    response = post_form(client, f"/c/{alice_post}/edit", htmx, body="my careful new wording")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert edits.TOO_LATE_TO_EDIT in html and "my careful new wording" in html
    assert ("<html" in html) is not htmx
    assert row(app, alice_post).body == "A first thought from Alice"


def test_editing_just_inside_the_window_is_allowed(
    app: Flask, client: FlaskClient, alice_post: int
) -> None:
    age(app, alice_post, 14.5)
    assert post_form(client, f"/c/{alice_post}/edit", True, body="in time").status_code == 200


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_editing_someone_elses_comment_is_forbidden(
    app: Flask, client: FlaskClient, logged_in: int, bob: int, method: str
) -> None:
    bobs = add_posts(app, bob, ["Bob's"])[0]
    if method == "GET":
        response = client.get(f"/c/{bobs}/edit", headers=HTMX)
    else:
        response = post_form(client, f"/c/{bobs}/edit", True, body="hijacked")
    assert response.status_code == 403
    assert row(app, bobs).body == "Bob's"


@pytest.mark.parametrize("htmx", [True, False])
def test_editing_an_unknown_or_deleted_comment_is_not_found(
    app: Flask, client: FlaskClient, alice_post: int, htmx: bool
) -> None:
    post_form(client, f"/c/{alice_post}/delete", True)
    headers = HTMX if htmx else {}
    for post_id in (alice_post, alice_post + 100):
        assert client.get(f"/c/{post_id}/edit", headers=headers).status_code == 404
        assert post_form(client, f"/c/{post_id}/edit", htmx, body="x").status_code == 404


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize(
    "path", ["/c/99999999999999999999/edit", "/c/-1/edit", "/c/abc/edit", "/c/2147483648/item"]
)
def test_forged_ids_are_not_found(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404
    for action in ("delete", "restore", "edit"):
        forged = path.rsplit("/", 1)[0] + "/" + action
        assert post_form(client, forged, True, body="x").status_code == 404


# The comment fragment ---------------------------------------------------------------------


def test_item_fragment_is_the_comment_as_everyone_sees_it(
    app: Flask, client: FlaskClient, alice_post: int, bob: int
) -> None:
    html = client.get(f"/c/{alice_post}/item", headers=HTMX).get_data(as_text=True)
    assert html.startswith(f'<article class="post" id="post-{alice_post}">')
    assert "A first thought from Alice" in html
    post_form(client, f"/c/{alice_post}/delete", True)
    response = client.get(f"/c/{alice_post}/item", headers=HTMX)
    assert response.status_code == 200 and response.get_data(as_text=True) == ""
    assert client.get("/c/9999/item", headers=HTMX).status_code == 404


def focused_controls(html: str) -> list[str]:
    """The text of each control marked autofocus (htmx focuses it when it swaps it in)."""
    return re.findall(r"<(?:a|button)\b[^>]*\bautofocus\b[^>]*>([^<]*)<", html)


def test_focus_goes_back_to_the_control_the_person_left(
    app: Flask, client: FlaskClient, alice_post: int
) -> None:
    """Save and Cancel put focus back on Edit, Undo on Delete; the notice running out (a
    background request) and the pages leave it alone."""
    saved = post_form(client, f"/c/{alice_post}/edit", True, body="better words")
    assert focused_controls(saved.get_data(as_text=True)) == ["Edit"]
    cancelled = client.get(f"/c/{alice_post}/item", headers=HTMX).get_data(as_text=True)
    assert focused_controls(cancelled) == ["Edit"]
    background = {**HTMX, "Hoverfeed-Background": "true"}
    expired = client.get(f"/c/{alice_post}/item", headers=background).get_data(as_text=True)
    assert "<article" in expired and focused_controls(expired) == []
    assert focused_controls(client.get("/").get_data(as_text=True)) == []
    post_form(client, f"/c/{alice_post}/delete", True)
    restored = post_form(client, f"/c/{alice_post}/restore", True).get_data(as_text=True)
    assert focused_controls(restored) == ["Delete"]
    # Cancelled after its 15 minutes: Edit is gone, so Delete.
    age(app, alice_post, minutes=16)
    late = client.get(f"/c/{alice_post}/item", headers=HTMX).get_data(as_text=True)
    assert focused_controls(late) == ["Delete"]


def test_a_deleted_top_comment_with_replies_is_a_placeholder(
    app: Flask, client: FlaskClient, alice_post: int, bob: int
) -> None:
    add_reply(app, bob, alice_post, "Bob answers")
    post_form(client, f"/c/{alice_post}/delete", True)
    for html in (
        client.get(f"/c/{alice_post}/item", headers=HTMX).get_data(as_text=True),
        article(client.get("/").get_data(as_text=True), alice_post),
    ):
        assert "This comment was deleted." in html
        assert "A first thought from Alice" not in html
        assert "/delete" not in html and "/edit" not in html and "/user/alice" not in html
    # Not on the author's profile: it lists live comments only.
    assert "A first thought from Alice" not in client.get("/user/alice").get_data(as_text=True)
    assert_counters_match_recount(app)


# Deleting and Undo -----------------------------------------------------------------------


def test_deleting_with_htmx_leaves_an_undo_notice(
    app: Flask, client: FlaskClient, alice_post: int, logged_in: int
) -> None:
    response = post_form(client, f"/c/{alice_post}/delete", True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    (notice,) = elements(html, "div")
    assert notice["id"] == f"post-{alice_post}" and notice["role"] == "status"
    assert "Comment deleted" in notice["text"]
    (form,) = elements(html, "form")
    assert form["action"] == form["hx-post"] == f"/c/{alice_post}/restore"
    assert form["hx-target"] == f"#post-{alice_post}"
    assert [b["text"] for b in elements(html, "button")] == ["Undo"]
    (timer,) = [s for s in elements(html, "span") if "hx-trigger" in s]
    assert timer["hx-trigger"] == "load delay:10s" and timer["hx-get"] == f"/c/{alice_post}/item"
    assert row(app, alice_post).deleted_at is not None
    assert post_count(app, logged_in) == 0
    assert "A first thought from Alice" not in client.get("/").get_data(as_text=True)
    assert_counters_match_recount(app)


def test_deleting_without_javascript_redirects_back_with_an_undo_button(
    app: Flask, client: FlaskClient, alice_post: int
) -> None:
    token = csrf_token(client, "/")
    response = client.post(
        f"/c/{alice_post}/delete",
        data={"csrf_token": token},
        headers={"Referer": "http://localhost/user/alice?x=1"},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/user/alice?x=1"
    flashes = flash_text(client, "/user/alice")
    assert "Comment deleted." in flashes
    (form,) = [f for f in elements(flashes, "form") if "restore" in f["action"]]
    assert form["action"] == f"/c/{alice_post}/restore" and form["method"] == "post"
    response = client.post(
        form["action"], data={"csrf_token": token}, headers={"Referer": "http://localhost/"}
    )
    assert response.status_code == 303 and response.headers["Location"] == f"/#post-{alice_post}"
    assert "Comment restored." in flash_text(client)
    assert row(app, alice_post).deleted_at is None
    assert_counters_match_recount(app)


def test_undo_with_htmx_brings_the_comment_back(
    app: Flask, client: FlaskClient, alice_post: int, logged_in: int
) -> None:
    post_form(client, f"/c/{alice_post}/delete", True)
    response = post_form(client, f"/c/{alice_post}/restore", True)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith(f'<article class="post" id="post-{alice_post}">')
    assert "A first thought from Alice" in html
    assert post_count(app, logged_in) == 1
    assert "A first thought from Alice" in client.get("/").get_data(as_text=True)
    assert_counters_match_recount(app)


def test_deleting_and_restoring_twice_counts_once(
    app: Flask, client: FlaskClient, alice_post: int, logged_in: int, bob: int
) -> None:
    reply = add_reply(app, logged_in, add_posts(app, bob, ["Bob's top"])[0])
    parent = row(app, reply).parent_id
    for post_id in (alice_post, reply):
        for _ in range(2):
            assert post_form(client, f"/c/{post_id}/delete", True).status_code == 200
            assert_counters_match_recount(app)
    assert post_count(app, logged_in) == 0 and reply_count(app, parent) == 0
    for post_id in (alice_post, reply):
        for _ in range(2):
            assert post_form(client, f"/c/{post_id}/restore", True).status_code == 200
            assert_counters_match_recount(app)
    assert post_count(app, logged_in) == 2 and reply_count(app, parent) == 1


def test_deleting_a_reply_counts_it_out_of_its_thread(
    app: Flask, client: FlaskClient, logged_in: int, bob: int
) -> None:
    top = add_posts(app, bob, ["Bob's top"])[0]
    reply = add_reply(app, logged_in, top, "Alice's reply")
    assert reply_count(app, top) == 1 and post_count(app, logged_in) == 1
    post_form(client, f"/c/{reply}/delete", False)
    assert reply_count(app, top) == 0 and post_count(app, logged_in) == 0
    assert post_count(app, bob) == 1
    post_form(client, f"/c/{reply}/restore", False)
    assert reply_count(app, top) == 1 and post_count(app, logged_in) == 1
    assert_counters_match_recount(app)


@pytest.mark.parametrize("htmx", [True, False])
def test_undo_is_refused_after_its_window(
    app: Flask, client: FlaskClient, alice_post: int, logged_in: int, htmx: bool
) -> None:
    post_form(client, f"/c/{alice_post}/delete", True)
    deleted_ago(app, alice_post, edits.UNDO_WINDOW.total_seconds() + 1)
    response = post_form(client, f"/c/{alice_post}/restore", htmx)
    html = response.get_data(as_text=True)
    assert edits.TOO_LATE_TO_UNDO in html
    if htmx:
        # In the notice's place, with the notice's role and timer.
        assert response.status_code == 422
        assert 'role="status"' in html and 'hx-trigger="load delay:10s"' in html
        assert "Undo</button>" not in html
    else:
        assert response.status_code == 409
    assert row(app, alice_post).deleted_at is not None
    assert post_count(app, logged_in) == 0
    assert_counters_match_recount(app)


def test_undo_is_honoured_in_the_grace_after_the_notice(
    app: Flask, client: FlaskClient, alice_post: int
) -> None:
    post_form(client, f"/c/{alice_post}/delete", True)
    # The notice is gone (10 s), a slow click still arrives in time.
    deleted_ago(app, alice_post, edits.UNDO_NOTICE.total_seconds() + 15)
    assert post_form(client, f"/c/{alice_post}/restore", True).status_code == 200
    assert row(app, alice_post).deleted_at is None
    assert_counters_match_recount(app)


@pytest.mark.parametrize("action", ["delete", "restore"])
def test_deleting_or_restoring_someone_elses_comment_is_forbidden(
    app: Flask, client: FlaskClient, logged_in: int, bob: int, action: str
) -> None:
    bobs = add_posts(app, bob, ["Bob's"])[0]
    if action == "restore":
        with app.app_context():
            edits.delete_post(bobs, bob)
    before = row(app, bobs).deleted_at
    for htmx in (True, False):
        assert post_form(client, f"/c/{bobs}/{action}", htmx).status_code == 403
    assert row(app, bobs).deleted_at == before
    assert_counters_match_recount(app)


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize("action", ["delete", "restore"])
def test_deleting_or_restoring_an_unknown_comment_is_not_found(
    app: Flask, client: FlaskClient, action: str
) -> None:
    for htmx in (True, False):
        assert post_form(client, f"/c/4242/{action}", htmx).status_code == 404


def test_a_purged_comment_is_not_found(app: Flask, client: FlaskClient, alice_post: int):
    post_form(client, f"/c/{alice_post}/delete", True)
    deleted_ago(app, alice_post, 25 * 3600)
    with app.app_context():
        assert edits.purge_deleted(timedelta(hours=24)) == 1
    for action in ("delete", "restore"):
        assert post_form(client, f"/c/{alice_post}/{action}", True).status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/c/{id}/item"),
        ("GET", "/c/{id}/edit"),
        ("POST", "/c/{id}/edit"),
        ("POST", "/c/{id}/delete"),
        ("POST", "/c/{id}/restore"),
    ],
)
def test_every_route_needs_a_login(app: Flask, client: FlaskClient, method: str, path: str):
    post_id = add_posts(app, make_user(app, "bob"), ["Bob's"])[0]
    token = csrf_token(client, "/login")
    response = client.open(
        path.format(id=post_id), method=method, data={"csrf_token": token, "body": "x"}
    )
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]
    assert row(app, post_id).deleted_at is None and row(app, post_id).body == "Bob's"


@pytest.mark.parametrize("action", ["edit", "delete", "restore"])
def test_changes_need_the_csrf_token(
    app: Flask, client: FlaskClient, alice_post: int, action: str
) -> None:
    response = client.post(f"/c/{alice_post}/{action}", data={"body": "x"})
    assert response.status_code == 400
    assert row(app, alice_post).body == "A first thought from Alice"
    assert row(app, alice_post).deleted_at is None


def test_others_no_longer_see_a_deleted_comment(
    app: Flask, client: FlaskClient, alice_post: int, auth
) -> None:
    post_form(client, f"/c/{alice_post}/delete", True)
    auth.logout()
    make_user(app, "bob")
    auth.login("bob")
    assert "A first thought from Alice" not in client.get("/").get_data(as_text=True)
    assert "A first thought from Alice" not in client.get("/user/alice").get_data(as_text=True)


# purge-comments ---------------------------------------------------------------------------


def test_purge_removes_old_deletes_replies_first_and_keeps_counters(
    app: Flask, runner, logged_in: int, bob: int
) -> None:
    alice = logged_in
    # A deleted top comment whose replies are deleted too: all of it goes.
    gone_top = add_posts(app, alice, ["gone top"])[0]
    gone_reply = add_reply(app, bob, gone_top)
    # A deleted top comment that still holds a live reply: stays, as its placeholder.
    kept_top = add_posts(app, alice, ["kept top"])[0]
    live_reply = add_reply(app, bob, kept_top)
    # Deleted an hour ago: not old enough.
    recent = add_posts(app, alice, ["recent"])[0]
    # A live comment and a deleted reply under a live top comment.
    live = add_posts(app, bob, ["live"])[0]
    old_reply = add_reply(app, alice, live)
    with app.app_context():
        for post_id, author in [
            (gone_reply, bob),
            (gone_top, alice),
            (kept_top, alice),
            (recent, alice),
            (old_reply, alice),
        ]:
            assert edits.delete_post(post_id, author)
    for post_id in (gone_reply, gone_top, kept_top, old_reply):
        deleted_ago(app, post_id, 25 * 3600)
    deleted_ago(app, recent, 3600)
    assert_counters_match_recount(app)

    result = runner.invoke(args=["purge-comments"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Removed 3 deleted comments."
    assert [row(app, i) is not None for i in (gone_top, gone_reply, old_reply)] == [False] * 3
    assert all(row(app, i) is not None for i in (kept_top, live_reply, recent, live))
    assert_counters_match_recount(app)
    assert post_count(app, alice) == 0 and post_count(app, bob) == 2
    assert reply_count(app, kept_top) == 1 and reply_count(app, live) == 0

    # A shorter age takes the recent one too; a second run finds nothing more.
    assert runner.invoke(args=["purge-comments", "--older-than-hours", "0.5"]).output == (
        "Removed 1 deleted comment.\n"
    )
    assert runner.invoke(args=["purge-comments"]).output == "Removed 0 deleted comments.\n"
    assert_counters_match_recount(app)


def test_purge_takes_a_placeholder_once_its_last_reply_is_purged(
    app: Flask, logged_in: int, bob: int
) -> None:
    top = add_posts(app, logged_in, ["top"])[0]
    reply = add_reply(app, bob, top)
    with app.app_context():
        edits.delete_post(top, logged_in)
        edits.delete_post(reply, bob)
    deleted_ago(app, top, 25 * 3600)
    deleted_ago(app, reply, 25 * 3600)
    with app.app_context():
        assert edits.purge_deleted(timedelta(hours=24)) == 2
    assert row(app, top) is None and row(app, reply) is None
    assert_counters_match_recount(app)


def test_purge_refuses_bad_options(runner) -> None:
    result = runner.invoke(args=["purge-comments", "--older-than-hours", "-1"])
    assert result.exit_code != 0


def test_the_data_export_marks_edited_and_deleted_comments(
    app: Flask, client: FlaskClient, alice_post: int, logged_in: int
) -> None:
    second = add_posts(app, logged_in, ["second"])[0]
    post_form(client, f"/c/{alice_post}/edit", True, body="edited first")
    post_form(client, f"/c/{second}/delete", True)
    comments = client.get("/settings/data.json").get_json()["comments"]
    assert [(c["body"], bool(c["edited_at"]), bool(c["deleted_at"])) for c in comments] == [
        ("edited first", True, False),
        ("second", False, True),
    ]


@pytest.mark.parametrize("action", ["delete", "restore"])
def test_concurrent_clicks_count_once(app: Flask, logged_in: int, bob: int, action: str) -> None:
    """Several requests deleting (or restoring) the same reply at once: one of them changes
    it, the others find it done; the counters move once."""
    top = add_posts(app, bob, ["Bob's top"])[0]
    reply = add_reply(app, logged_in, top)
    if action == "restore":
        with app.app_context():
            edits.delete_post(reply, logged_in)
    work = edits.delete_post if action == "delete" else edits.restore_post
    barrier = threading.Barrier(6)
    results: list[bool] = []

    def click() -> None:
        with app.test_request_context(method="POST"):
            barrier.wait()
            results.append(work(reply, logged_in))
            db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]
    assert reply_count(app, top) == (0 if action == "delete" else 1)
    assert_counters_match_recount(app)


@pytest.mark.parametrize(
    ("page", "in_place"),
    [("/", True), ("/c/{id}", True), ("/user/alice", False), (None, False), ("http://[x", False)],
)
def test_a_saved_comment_replies_in_place_only_where_its_page_shows_threads(
    client: FlaskClient, alice_post: int, page: str | None, in_place: bool
) -> None:
    """Save answers with the comment alone; its Reply opens the form in place on the feed
    and thread pages (htmx names the page in HX-Current-URL), and leads to a page with the
    form elsewhere (a profile has no thread to put the reply in)."""
    headers = htmx_headers(client)
    if page is not None:
        url = page if page.startswith("http") else "http://localhost" + page
        headers["HX-Current-URL"] = url.format(id=alice_post)
    response = client.post(f"/c/{alice_post}/edit", data={"body": "fixed"}, headers=headers)
    assert response.status_code == 200
    (reply,) = [a for a in elements(response.get_data(as_text=True), "a") if a["text"] == "Reply"]
    assert ("hx-get" in reply) is in_place
    assert (f'id="reply-slot-{alice_post}"' in response.get_data(as_text=True)) is in_place


def test_a_refused_edit_offers_no_way_back_elsewhere(client: FlaskClient, alice_post: int):
    """The posted `next` is checked on the page a refused edit answers with, too."""
    response = post_form(
        client, f"/c/{alice_post}/edit", False, body="x" * 281, next="//evil.example/"
    )
    assert response.status_code == 422
    (cancel,) = [a for a in elements(response.get_data(as_text=True), "a") if a["text"] == "Cancel"]
    assert cancel["href"] == "/"


def test_deleting_from_its_own_page_without_javascript_goes_to_the_feed(
    client: FlaskClient, alice_post: int
) -> None:
    """Its page may be gone with it (a top comment without replies): the feed, with Undo."""
    response = client.post(
        f"/c/{alice_post}/delete",
        data={"csrf_token": csrf_token(client, "/")},
        headers={"Referer": f"http://localhost/c/{alice_post}"},
    )
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert "Comment deleted." in flash_text(client)


def test_purge_never_takes_a_comment_whose_undo_is_still_honoured(
    app: Flask, runner, client: FlaskClient, alice_post: int
) -> None:
    assert post_form(client, f"/c/{alice_post}/delete", True).status_code == 200
    result = runner.invoke(args=["purge-comments", "--older-than-hours", "0"])
    assert result.exit_code == 0 and "Removed 0 deleted comments" in result.output
    assert post_form(client, f"/c/{alice_post}/restore", True).status_code == 200
    assert row(app, alice_post).deleted_at is None
