"""Threads: replies (in place and without JavaScript), the feed's latest replies with
"Show all N replies", the page per comment, statement budgets, and double posts."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from tests.conftest import HTMX
from tests.conftest import AuthActions
from tests.conftest import QueryCounter
from tests.conftest import add_posts
from tests.conftest import csrf_token
from tests.conftest import make_user
from tests.conversation.html import elements
from webapp.accounts.models import User
from webapp.conversation.models import Post
from webapp.core.extensions import db
from webapp.core.pagination import PAGE_SIZE
from webapp.core.pagination import Cursor
from webapp.core.timeutil import utcnow

POST_IDS = re.compile(r'<article class="post[^"]*" id="post-(\d+)"[^>]*>')


def post_ids(html: str) -> list[int]:
    return [int(found) for found in POST_IDS.findall(html)]


def add_replies(
    app: Flask, user_id: int, reply_to: int, bodies: list[str], timestamp: datetime | None = None
) -> list[int]:
    return add_posts(app, user_id, bodies, timestamp, reply_to=reply_to)


def soft_delete(app: Flask, post_id: int) -> None:
    """What a delete leaves (the delete itself is another module's): the row marked, and
    its thread's count lowered."""
    with app.app_context():
        post = db.session.get(Post, post_id)
        post.deleted_at = utcnow()
        if post.parent_id is not None:
            db.session.execute(
                update(Post)
                .where(Post.id == post.parent_id)
                .values(reply_count=Post.reply_count - 1)
            )
        db.session.commit()


def stored(app: Flask, post_id: int) -> Post | None:
    with app.app_context():
        post = db.session.get(Post, post_id)
        if post is not None:
            db.session.expunge(post)
        return post


def htmx_headers(client: FlaskClient, trigger: str | None = None) -> dict[str, str]:
    headers = {**HTMX, "X-CSRFToken": csrf_token(client, "/")}
    if trigger:
        headers["HX-Trigger"] = trigger
    return headers


def reply(client: FlaskClient, to: int | str, body: str, htmx: bool = True, trigger=None):
    if htmx:
        trigger = trigger or f"reply-form-{to}"
        return client.post(
            f"/c/{to}/replies", data={"body": body}, headers=htmx_headers(client, trigger)
        )
    data = {"body": body, "csrf_token": csrf_token(client, "/")}
    return client.post(f"/c/{to}/replies", data=data)


def post_count(app: Flask, user_id: int) -> int:
    with app.app_context():
        return db.session.get(User, user_id).post_count


@pytest.fixture
def thread(app: Flask, logged_in: int) -> dict[str, int]:
    """Bob's top comment with one reply by Carol."""
    bob = make_user(app, "bob")
    carol = make_user(app, "carol")
    [top] = add_posts(app, bob, ["Bob's question"])
    [carols] = add_replies(app, carol, top, ["Carol's answer"])
    return {"alice": logged_in, "bob": bob, "carol": carol, "top": top, "carols": carols}


# Replying --------------------------------------------------------------------------------


def test_reply_in_place_lands_at_the_end_of_the_thread_and_closes_the_form(
    app: Flask, client: FlaskClient, thread: dict[str, int]
) -> None:
    top = thread["top"]
    form = client.get(f"/c/{top}/reply-form", headers=HTMX)
    assert form.status_code == 200
    html = form.get_data(as_text=True)
    assert "<html" not in html
    [form_element] = elements(html, "form")
    assert form_element["id"] == f"reply-form-{top}"
    assert form_element["hx-post"] == form_element["action"] == f"/c/{top}/replies"
    assert form_element["hx-target"] == f"#replies-{top}"
    assert form_element["hx-swap"] == "beforeend"
    [textarea] = elements(html, "textarea")
    assert textarea["text"].strip() == "" and "autofocus" in textarea

    response = reply(client, top, "Alice agrees <b>")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith('<article class="post"')
    assert "Alice agrees &lt;b&gt;" in html
    # The form closes: its slot comes back empty, out of band.
    assert f'<div class="reply-slot" id="reply-slot-{top}" hx-swap-oob="true"></div>' in html
    [new_id] = post_ids(html)
    new = stored(app, new_id)
    assert new.parent_id == top and new.user_id == thread["alice"]
    assert stored(app, top).reply_count == 2
    assert post_count(app, thread["alice"]) == 1
    # On the thread page it comes after Carol's.
    page = client.get(f"/c/{top}").get_data(as_text=True)
    assert post_ids(page) == [top, thread["carols"], new_id]


def test_reply_to_a_reply_joins_the_thread_and_starts_with_a_mention(
    app: Flask, client: FlaskClient, thread: dict[str, int]
) -> None:
    carols = thread["carols"]
    html = client.get(f"/c/{carols}/reply-form", headers=HTMX).get_data(as_text=True)
    [form_element] = elements(html, "form")
    assert form_element["action"] == f"/c/{carols}/replies"
    assert form_element["hx-target"] == f"#replies-{thread['top']}"
    [textarea] = elements(html, "textarea")
    assert textarea["text"].removeprefix("\r\n") == "@carol "

    html = reply(client, carols, "@carol thanks!").get_data(as_text=True)
    [new_id] = post_ids(html)
    assert stored(app, new_id).parent_id == thread["top"]  # one level: the top comment
    links = [a for a in elements(html, "a") if "user-link" in a.get("class", "")]
    assert [a["href"] for a in links] == ["/user/alice", "/user/carol"]  # author, mention
    assert stored(app, thread["top"]).reply_count == 2
    assert stored(app, carols).reply_count == 0


def test_thread_page_form_resets_after_a_reply(
    app: Flask, client: FlaskClient, thread: dict[str, int]
) -> None:
    top = thread["top"]
    response = reply(client, top, "from the bottom form", trigger="reply")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "from the bottom form" in html
    form = html[html.index('<form id="reply"') :]
    assert 'hx-swap-oob="true"' in form
    assert re.search(r"<textarea[^>]*>\s*</textarea>", form)


def test_reply_without_javascript_lands_on_the_thread(
    app: Flask, client: FlaskClient, thread: dict[str, int]
) -> None:
    top, carols = thread["top"], thread["carols"]
    feed = client.get("/").get_data(as_text=True)
    reply_links = {a["href"] for a in elements(feed, "a") if "reply-link" in a.get("class", "")}
    assert reply_links == {f"/c/{top}#reply", f"/c/{carols}/reply-form"}
    # A top comment: the thread page's own form.
    page = client.get(f"/c/{top}").get_data(as_text=True)
    [form] = [f for f in elements(page, "form") if f.get("id") == "reply"]
    assert form["action"] == f"/c/{top}/replies" and form["method"] == "post"
    response = reply(client, top, "plain reply", htmx=False)
    assert response.status_code == 303
    [new_id] = [p.id for p in all_posts(app) if p.body == "plain reply"]
    assert response.location == f"/c/{top}#post-{new_id}"
    page = client.get(response.location).get_data(as_text=True)
    assert "Your reply is live." in page and post_ids(page)[-1] == new_id
    # A reply: a page with the comment answered and the form, prefilled.
    page = client.get(f"/c/{carols}/reply-form").get_data(as_text=True)
    assert "<html" in page and "Carol&#39;s answer" in page
    [form] = [f for f in elements(page, "form") if f.get("action") == f"/c/{carols}/replies"]
    assert "hx-post" not in form
    assert [t["text"].removeprefix("\r\n") for t in elements(page, "textarea")] == ["@carol "]
    response = reply(client, carols, "@carol plain too", htmx=False)
    assert response.status_code == 303 and response.location.startswith(f"/c/{top}#post-")


@pytest.mark.parametrize("htmx", [True, False])
def test_reply_to_a_deleted_or_unknown_comment_is_a_404(
    app: Flask, client: FlaskClient, thread: dict[str, int], htmx: bool
) -> None:
    soft_delete(app, thread["carols"])
    for target in (thread["carols"], 987654):
        response = reply(client, target, "hello?", htmx=htmx)
        assert response.status_code == 404
        html = response.get_data(as_text=True)
        assert "That comment was deleted, or never existed." in html
        assert ("<html" in html) != htmx
        get = client.get(f"/c/{target}/reply-form", headers=HTMX if htmx else {})
        assert get.status_code == 404
    assert [p.body for p in all_posts(app)] == ["Bob's question", "Carol's answer"]
    assert post_count(app, thread["alice"]) == 0
    assert stored(app, thread["top"]).reply_count == 0


FORGED_IDS = ["abc", "-1", "0", "2147483648", "99999999999999999999999999", "1.5", "%00"]


@pytest.mark.usefixtures("thread")
@pytest.mark.parametrize("forged", FORGED_IDS)
def test_forged_ids_are_404(client: FlaskClient, forged: str) -> None:
    for path in (f"/c/{forged}", f"/c/{forged}/replies", f"/c/{forged}/reply-form"):
        assert client.get(path).status_code == 404, path
        assert client.get(path, headers=HTMX).status_code == 404, path
    assert reply(client, forged, "x").status_code == 404
    assert reply(client, forged, "x", htmx=False).status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [("", "Write something first."), ("x" * 281, "at most 280"), ("bell \x07", "control")],
)
def test_invalid_reply_errors_in_its_form(
    app: Flask, client: FlaskClient, thread: dict[str, int], body: str, message: str
) -> None:
    top, carols = thread["top"], thread["carols"]
    response = reply(client, carols, body)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == f"#reply-form-{carols}"
    assert response.headers["HX-Reswap"] == "outerHTML"
    html = response.get_data(as_text=True)
    assert html.startswith(f'<form id="reply-form-{carols}"') and message in html
    response = reply(client, top, body, trigger="reply")
    assert response.status_code == 422 and response.headers["HX-Retarget"] == "#reply"
    assert response.get_data(as_text=True).startswith('<form id="reply"')
    plain = reply(client, top, body, htmx=False)
    assert plain.status_code == 422 and message in plain.get_data(as_text=True)
    assert len(all_posts(app)) == 2


def test_replying_needs_login_and_csrf(app: Flask, client: FlaskClient, thread: dict) -> None:
    top = thread["top"]
    assert client.post(f"/c/{top}/replies", data={"body": "x"}).status_code == 400
    assert client.post(f"/c/{top}/replies", data={"body": "x"}, headers=HTMX).status_code == 400
    anonymous = app.test_client()
    token = csrf_token(anonymous, "/login")
    response = anonymous.post(f"/c/{top}/replies", data={"body": "x", "csrf_token": token})
    assert response.status_code == 302 and response.location.startswith("/login")
    for path in (f"/c/{top}", f"/c/{top}/replies", f"/c/{top}/reply-form"):
        assert anonymous.get(path).status_code == 302
        assert anonymous.get(path, headers=HTMX).status_code == 401
    assert len(all_posts(app)) == 2


def all_posts(app: Flask) -> list[Post]:
    with app.app_context():
        posts = list(db.session.scalars(select(Post).order_by(Post.id)))
        db.session.expunge_all()
        return posts


def test_counters_equal_a_recount_after_replies(
    app: Flask, client: FlaskClient, thread: dict[str, int]
) -> None:
    tops = [thread["top"], *add_posts(app, thread["carol"], ["another", "third"])]
    for n in range(12):
        target = tops[n % 3] if n % 4 else thread["carols"]
        assert reply(client, target, f"reply {n}").status_code == 200
    add_replies(app, thread["bob"], tops[1], ["bob 1", "bob 2"])
    assert recount_mismatches(app) == ([], [])
    soft_delete(app, thread["carols"])
    assert recount_mismatches(app)[0] == []
    with app.app_context():
        counts = dict(db.session.execute(select(Post.id, Post.reply_count)).all())
    # Carol's deleted reply no longer counts; the replies to it joined the top comment.
    assert [counts[top] for top in tops] == [1 + 3 + 3 - 1, 3 + 2, 3]
    assert post_count(app, thread["alice"]) == 12


def recount_mismatches(app: Flask) -> tuple[list, list]:
    """Top comments whose reply_count, and users whose post_count, differ from a recount."""
    with app.app_context():
        top = Post.__table__.alias("top")
        live_replies = (
            select(func.count())
            .select_from(Post)
            .where(Post.parent_id == top.c.id, Post.deleted_at.is_(None))
            .scalar_subquery()
        )
        threads = db.session.execute(
            select(top.c.id).where(top.c.parent_id.is_(None), top.c.reply_count != live_replies)
        ).all()
        authored = select(func.count()).where(Post.user_id == User.id).scalar_subquery()
        users = db.session.execute(select(User.id).where(User.post_count != authored)).all()
        return threads, users


# The feed ---------------------------------------------------------------------------------


def test_feed_shows_the_latest_two_replies_and_show_all(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    bob = make_user(app, "bob")
    [busy, quiet, silent] = add_posts(app, bob, ["busy", "quiet", "silent"])
    start = utcnow() - timedelta(hours=1)
    busy_replies = [
        add_replies(app, bob, busy, [f"b{n}"], timestamp=start + timedelta(minutes=n))[0]
        for n in range(5)
    ]
    quiet_replies = add_replies(app, bob, quiet, ["q0", "q1"])
    html = client.get("/").get_data(as_text=True)
    assert post_ids(html) == [silent, quiet, *quiet_replies, busy, *busy_replies[3:]]
    shows = [a for a in elements(html, "a") if "show-replies" in a.get("class", "")]
    [show_all] = shows
    assert show_all["text"] == "Show all 5 replies"
    assert show_all["href"] == f"/c/{busy}"  # without JavaScript: the thread page
    cursor = Cursor.decode(show_all["hx-get"].split("before=")[1])
    assert cursor.id == busy_replies[3]
    assert show_all["hx-target"] == "this" and show_all["hx-swap"] == "outerHTML"
    # Every thread has its list, where a reply posted in place goes.
    assert all(f'<div class="replies" id="replies-{t}">' in html for t in (busy, quiet, silent))

    fragment = client.get(show_all["hx-get"], headers=HTMX)
    assert fragment.status_code == 200
    fragment_html = fragment.get_data(as_text=True)
    assert "<html" not in fragment_html and "show-replies" not in fragment_html
    assert post_ids(fragment_html) == busy_replies[:3]
    # Without htmx, the same address is the thread page.
    plain = client.get(show_all["hx-get"])
    assert plain.status_code == 302 and plain.location.startswith(f"/c/{busy}?before=")


def test_show_all_walks_a_long_thread_once_in_order(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    bob = make_user(app, "bob")
    [top] = add_posts(app, bob, ["long thread"])
    tied = utcnow() - timedelta(hours=2)  # ties broken by id: none lost, none twice
    ids = add_replies(app, bob, top, [f"tied {n}" for n in range(70)], timestamp=tied)
    ids += add_replies(app, bob, top, [f"later {n}" for n in range(45)])
    html = client.get("/").get_data(as_text=True)
    seen = post_ids(html)[1:]
    assert seen == ids[-2:]
    pages = 0
    fragment = html
    while True:
        shows = [a for a in elements(fragment, "a") if "show-replies" in a.get("class", "")]
        if not shows:
            break
        fragment = client.get(shows[0]["hx-get"], headers=HTMX).get_data(as_text=True)
        # Focus goes to the first reply loaded (the link that had it is gone), only there.
        focused = [a["id"] for a in elements(fragment, "article") if "autofocus" in a]
        assert focused == [f"post-{post_ids(fragment)[0]}"]
        seen = post_ids(fragment) + seen
        pages += 1
    assert pages == 3  # 50, 50, 13
    assert seen == ids


def test_replies_fragment_of_an_unknown_thread_is_a_404(client: FlaskClient, thread) -> None:
    assert client.get("/c/987654/replies", headers=HTMX).status_code == 404
    # A reply is no thread.
    assert client.get(f"/c/{thread['carols']}/replies", headers=HTMX).status_code == 404


@pytest.mark.parametrize("cursor", ["x", "1_", "_1", "99999999999999999999999_1", "1_2_3", "-1_2"])
def test_malformed_cursors_are_400(client: FlaskClient, thread: dict, cursor: str) -> None:
    top = thread["top"]
    assert client.get(f"/c/{top}/replies?before={cursor}", headers=HTMX).status_code == 400
    assert client.get(f"/c/{top}/replies?before={cursor}").status_code == 400
    assert client.get(f"/c/{top}?before={cursor}").status_code == 400


def test_each_time_links_to_its_comment_page(client: FlaskClient, thread: dict) -> None:
    html = client.get("/").get_data(as_text=True)
    for post_id in (thread["top"], thread["carols"]):
        assert re.search(
            rf'<a class="post-time" href="/c/{post_id}"><time datetime="[^"]+" data-relative '
            r'title="[^"]+ UTC">just now</time></a>',
            html,
        )


# The page per comment ----------------------------------------------------------------------


def test_thread_page_shows_the_comment_its_replies_and_a_form(
    client: FlaskClient, thread: dict[str, int]
) -> None:
    response = client.get(f"/c/{thread['top']}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert post_ids(html) == [thread["top"], thread["carols"]]
    assert "Comment by bob" in html and "Carol&#39;s answer" in html
    assert '<form id="reply"' in html and 'id="reply-body"' in html
    assert "Show earlier replies" not in html


def test_a_reply_page_is_its_thread_scrolled_to_it(
    app: Flask, client: FlaskClient, thread: dict[str, int]
) -> None:
    response = client.get(f"/c/{thread['carols']}")
    assert response.status_code == 302
    assert response.location == f"/c/{thread['top']}#post-{thread['carols']}"


def test_a_reply_far_back_links_to_the_page_that_holds_it(
    app: Flask, client: FlaskClient, thread: dict[str, int]
) -> None:
    top = thread["top"]
    add_replies(app, thread["bob"], top, [f"later {n}" for n in range(55)])
    location = client.get(f"/c/{thread['carols']}").location
    assert location.startswith(f"/c/{top}?before=")
    assert location.endswith(f"#post-{thread['carols']}")
    page = client.get(location).get_data(as_text=True)
    assert post_ids(page) == [top, thread["carols"]]
    assert "Back to the latest replies" in page


def test_thread_page_pages_through_many_replies(
    app: Flask, client: FlaskClient, thread: dict[str, int]
) -> None:
    top = thread["top"]
    more = add_replies(app, thread["bob"], top, [f"r{n}" for n in range(59)])
    html = client.get(f"/c/{top}").get_data(as_text=True)
    assert post_ids(html) == [top, *more[-50:]]
    [earlier] = [a for a in elements(html, "a") if "show-replies" in a.get("class", "")]
    assert earlier["text"] == "Show earlier replies"
    older = client.get(earlier["href"]).get_data(as_text=True)
    assert post_ids(older) == [top, thread["carols"], *more[:9]]
    assert "Back to the latest replies" in older and "show-replies" not in older


def test_deleted_comment_with_replies_is_a_placeholder(
    app: Flask, client: FlaskClient, thread: dict[str, int]
) -> None:
    soft_delete(app, thread["top"])
    for html in (
        client.get(f"/c/{thread['top']}").get_data(as_text=True),
        client.get("/").get_data(as_text=True),
    ):
        assert "This comment was deleted." in html and "Bob&#39;s question" not in html
        assert post_ids(html) == [thread["top"], thread["carols"]]
    page = client.get(f"/c/{thread['top']}").get_data(as_text=True)
    assert '<form id="reply"' not in page
    assert reply(client, thread["top"], "to a deleted one").status_code == 404
    # Its live replies can still be answered: the thread stays.
    assert reply(client, thread["carols"], "@carol still here").status_code == 200


def test_deleted_comment_without_replies_and_unknown_ids_are_404(
    app: Flask, client: FlaskClient, thread: dict[str, int]
) -> None:
    soft_delete(app, thread["carols"])
    soft_delete(app, thread["top"])
    for post_id in (thread["top"], thread["carols"], 987654):
        response = client.get(f"/c/{post_id}")
        assert response.status_code == 404
        assert "That comment was deleted, or never existed." in response.get_data(as_text=True)
    assert "Bob&#39;s question" not in client.get("/").get_data(as_text=True)


# Statement budgets -------------------------------------------------------------------------


def measure(client: FlaskClient, counter: QueryCounter, url: str, htmx: bool = False) -> int:
    counter.statements.clear()
    response = client.get(url, headers=HTMX if htmx else {})
    assert response.status_code == 200, url
    return counter.count


@pytest.mark.usefixtures("logged_in")
def test_feed_with_many_replies_costs_three_statements_at_any_depth(
    app: Flask, client: FlaskClient, count_queries: QueryCounter
) -> None:
    authors = [make_user(app, f"author{n}") for n in range(4)]
    old = utcnow() - timedelta(days=3)
    deep = add_posts(app, authors[0], [f"old {n}" for n in range(2 * PAGE_SIZE)], timestamp=old)
    tops = add_posts(app, authors[1], [f"top {n}" for n in range(PAGE_SIZE)])
    for n, top in enumerate(tops + deep[-PAGE_SIZE:]):
        add_replies(app, authors[n % 4], top, [f"@author{n % 3} re {n}.{k}" for k in range(3)])
    client.get("/")  # warm up: the first request may record "last seen"
    count_queries.statements.clear()
    html = client.get("/").get_data(as_text=True)
    first = count_queries.count
    assert len(post_ids(html)) == PAGE_SIZE * 3  # each with its latest two replies
    assert html.count("Show all 3 replies") == PAGE_SIZE
    window = [s for s in count_queries.statements if "row_number" in s.lower()]
    assert len(window) == 1
    # A page deep in the feed: keyset, so the same statements as page 2.
    second = measure(client, count_queries, f"/?before={Cursor(utcnow(), 10**9).encode()}")
    far = Cursor(old + timedelta(seconds=1), deep[-1] + 1).encode()
    deeper = measure(client, count_queries, f"/?before={far}", htmx=True)
    assert first == second == deeper == 3, count_queries.statements


@pytest.mark.usefixtures("logged_in")
def test_thread_page_and_show_all_budgets(
    app: Flask, client: FlaskClient, count_queries: QueryCounter
) -> None:
    bob = make_user(app, "bob")
    [small, big] = add_posts(app, bob, ["small", "big"])
    add_replies(app, bob, small, ["one"])
    ids = add_replies(app, make_user(app, "carol"), big, [f"@bob r{n}" for n in range(120)])
    client.get("/")
    assert measure(client, count_queries, f"/c/{small}") <= 3
    assert measure(client, count_queries, f"/c/{big}") == 3
    html = client.get(f"/c/{big}").get_data(as_text=True)
    [earlier] = [a for a in elements(html, "a") if "show-replies" in a.get("class", "")]
    cursor = Cursor.decode(earlier["hx-get"].split("before=")[1])
    assert cursor is not None and cursor.id == ids[-50]
    assert measure(client, count_queries, f"/c/{big}?before={cursor.encode()}") == 3
    assert measure(client, count_queries, f"/c/{big}/replies?before={cursor.encode()}", True) == 2
    assert measure(client, count_queries, f"/c/{big}/replies", True) == 2


# Double posts ------------------------------------------------------------------------------


def test_the_same_text_twice_within_five_seconds_is_one_comment(
    app: Flask, client: FlaskClient, thread: dict[str, int]
) -> None:
    alice, top = thread["alice"], thread["top"]
    headers = htmx_headers(client)
    first = client.post("/", data={"body": "twice"}, headers=headers)
    again = client.post("/", data={"body": "twice"}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert len(post_ids(first.get_data(as_text=True))) == 1
    assert post_ids(again.get_data(as_text=True)) == []  # nothing new to show
    plain = client.post("/", data={"body": "twice", "csrf_token": headers["X-CSRFToken"]})
    assert plain.status_code == 303
    for _ in range(3):
        assert reply(client, top, "me too").status_code == 200
        assert reply(client, top, "me too", htmx=False).status_code == 303
    bodies = [p.body for p in all_posts(app) if p.user_id == alice]
    assert sorted(bodies) == ["me too", "twice"]
    assert post_count(app, alice) == 2
    assert stored(app, top).reply_count == 2
    # Another parent, or the same text later on, is another comment.
    assert reply(client, thread["carols"], "twice").status_code == 200
    with app.app_context():
        # Everything so far was posted more than five seconds ago.
        db.session.execute(update(Post).values(timestamp=utcnow() - timedelta(seconds=6)))
        db.session.commit()
    assert (
        len(post_ids(client.post("/", data={"body": "twice"}, headers=headers).data.decode())) == 1
    )
    assert reply(client, top, "me too").status_code == 200
    assert sorted(p.body for p in all_posts(app) if p.user_id == alice) == [
        "me too",
        "me too",
        "twice",
        "twice",
        "twice",
    ]
    assert post_count(app, alice) == 5


@pytest.mark.parametrize("to_thread", [False, True], ids=["top", "reply"])
def test_concurrent_double_posts_make_one_comment(
    app: Flask, thread: dict[str, int], to_thread: bool
) -> None:
    """Eight tabs of one person send the same text at the same moment."""
    clients = []
    for _ in range(8):
        client = app.test_client()
        AuthActions(client).login("alice")
        clients.append((client, htmx_headers(client, f"reply-form-{thread['top']}")))
    url = f"/c/{thread['top']}/replies" if to_thread else "/"
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def send(client: FlaskClient, headers: dict[str, str]) -> None:
        barrier.wait()
        statuses.append(client.post(url, data={"body": "at once"}, headers=headers).status_code)

    workers = [threading.Thread(target=send, args=pair) for pair in clients]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert statuses == [200] * len(clients)
    assert [p.body for p in all_posts(app)].count("at once") == 1
    assert post_count(app, thread["alice"]) == 1
    assert stored(app, thread["top"]).reply_count == (2 if to_thread else 1)


def test_replies_count_against_the_posting_limit(database_url: str) -> None:
    """Comments and replies share one per-user limit: replies are no way around it."""
    from tests.core.test_throttling import limited_app

    app = limited_app(database_url, RATELIMIT_POSTS_PER_USER="3 per minute")
    client = app.test_client()
    auth = AuthActions(client)
    auth.register("alice")
    auth.login("alice")
    headers = htmx_headers(client)
    assert client.post("/", data={"body": "top"}, headers=headers).status_code == 200
    [top] = [p.id for p in all_posts(app)]
    for n in range(2):
        assert reply(client, top, f"r{n}").status_code == 200
    refused = reply(client, top, "one too many")
    assert refused.status_code == 429
    assert "You are posting very fast." in refused.get_data(as_text=True)
    assert len(all_posts(app)) == 3


def test_deleting_an_account_keeps_thread_counters_true(
    app: Flask, client: FlaskClient, thread: dict[str, int]
) -> None:
    """Dave goes: replies to his comment go with it (their authors' counts drop), and his
    replies leave Bob's thread (its count drops)."""
    from webapp.accounts.deletion import delete_account

    dave = make_user(app, "dave")
    [daves] = add_posts(app, dave, ["Dave's comment"])
    for n in range(2):
        assert reply(client, daves, f"alice to dave {n}").status_code == 200
    add_replies(app, thread["bob"], daves, ["bob to dave"])
    add_replies(app, dave, thread["top"], ["dave to bob 1", "dave to bob 2"])
    add_replies(app, dave, thread["carols"], ["@carol dave to carol"])
    assert stored(app, thread["top"]).reply_count == 4
    with app.app_context():
        delete_account(dave)
    assert recount_mismatches(app) == ([], [])
    assert stored(app, thread["top"]).reply_count == 1
    assert post_count(app, thread["alice"]) == 0 and post_count(app, thread["bob"]) == 1
    page = client.get(f"/c/{thread['top']}").get_data(as_text=True)
    assert post_ids(page) == [thread["top"], thread["carols"]]
