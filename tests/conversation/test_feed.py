"""The feed: newest first, keyset "Load more", and posting with and without htmx."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import HTMX
from tests.conftest import QueryCounter
from tests.conftest import add_posts
from tests.conftest import csrf_token
from tests.conftest import make_user
from webapp.accounts.models import User
from webapp.conversation.models import Post
from webapp.core.extensions import db
from webapp.core.pagination import PAGE_SIZE
from webapp.core.timeutil import utcnow

POST_IDS = re.compile(r'<article class="post" id="post-(\d+)"[^>]*>')


def post_ids(html: str) -> list[int]:
    return [int(found) for found in POST_IDS.findall(html)]


def older_link(html: str) -> str | None:
    match = re.search(r'hx-get="(/[^"]*before=[^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def stored_posts(app: Flask) -> list[Post]:
    with app.app_context():
        return list(db.session.scalars(select(Post).order_by(Post.id)))


def post_comment(client: FlaskClient, body: str, htmx: bool = True):
    headers = {**HTMX, "X-CSRFToken": csrf_token(client, "/")} if htmx else {}
    data = {"body": body} if htmx else {"body": body, "csrf_token": csrf_token(client, "/")}
    return client.post("/", data=data, headers=headers)


@pytest.mark.usefixtures("logged_in")
def test_feed_item_shows_avatar_link_time_and_escaped_text(app: Flask, client: FlaskClient) -> None:
    bob = make_user(app, "Bob")
    add_posts(app, bob, ["first line\nsecond <b>line</b>"])
    html = client.get("/").get_data(as_text=True)
    item = html[html.index('<article class="post"') :]
    item = item[: item.index("</article>")]
    assert '<img class="avatar" src="/avatar/bob.svg"' in item
    assert 'href="/user/Bob"' in item and 'hx-get="/user/Bob/popup"' in item
    assert 'hx-trigger="hovercard:intent, focus"' in item and "data-hovercard" in item
    assert re.search(
        r'<time datetime="\d{4}-\d\d-\d\dT[^"]+\+00:00" data-relative'
        r' title="[^"]+ UTC">just now</time>',
        item,
    )
    assert "first line\nsecond &lt;b&gt;line&lt;/b&gt;" in item
    assert "<b>" not in item


@pytest.mark.usefixtures("logged_in")
def test_newest_first(app: Flask, client: FlaskClient) -> None:
    bob = make_user(app, "bob")
    now = utcnow()
    old = add_posts(app, bob, ["old"], timestamp=now - timedelta(days=2))
    new = add_posts(app, bob, ["new"], timestamp=now - timedelta(minutes=5))
    middle = add_posts(app, bob, ["middle"], timestamp=now - timedelta(hours=3))
    html = client.get("/").get_data(as_text=True)
    assert post_ids(html) == [new[0], middle[0], old[0]]
    assert "5 min ago" in html and "3 hours ago" in html and "2 days ago" in html


@pytest.mark.usefixtures("logged_in")
def test_load_more_walks_every_comment_once(app: Flask, client: FlaskClient) -> None:
    bob = make_user(app, "bob")
    # Many comments share one timestamp: the id breaks the tie, so none is lost or repeated.
    same_moment = utcnow() - timedelta(hours=1)
    ids = add_posts(app, bob, [f"tied {n}" for n in range(25)], timestamp=same_moment)
    ids += add_posts(app, bob, [f"recent {n}" for n in range(20)])
    first = client.get("/").get_data(as_text=True)
    seen = post_ids(first)
    assert len(seen) == PAGE_SIZE
    assert "<noscript><a href=" in first and ">Older</a></noscript>" in first
    url = older_link(first)
    pages = 1
    while url:
        fragment = client.get(url, headers=HTMX).get_data(as_text=True)
        assert "<html" not in fragment and "post-form" not in fragment
        seen += post_ids(fragment)
        url = older_link(fragment)
        pages += 1
    assert pages == 3
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))


@pytest.mark.usefixtures("logged_in")
def test_older_link_without_javascript_is_a_full_page(app: Flask, client: FlaskClient) -> None:
    bob = make_user(app, "bob")
    add_posts(app, bob, [f"c{n}" for n in range(PAGE_SIZE + 3)])
    url = older_link(client.get("/").get_data(as_text=True))
    page = client.get(url).get_data(as_text=True)
    assert "<html" in page and "Back to the newest" in page
    assert len(post_ids(page)) == 3


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize("cursor", ["x", "1_", "_1", "99999999999999999999999_1", "1_2_3"])
def test_malformed_cursor_is_a_400(client: FlaskClient, cursor: str) -> None:
    assert client.get(f"/?before={cursor}").status_code == 400
    assert client.get(f"/?before={cursor}", headers=HTMX).status_code == 400


@pytest.mark.usefixtures("logged_in")
def test_feed_page_costs_the_same_whatever_the_authors(
    app: Flask, client: FlaskClient, count_queries: QueryCounter
) -> None:
    one_author = make_user(app, "solo")
    add_posts(app, one_author, [f"s{n}" for n in range(PAGE_SIZE)])
    client.get("/")  # warm up: the first request may record "last seen"
    count_queries.statements.clear()
    client.get("/")
    single = count_queries.count

    for n in range(PAGE_SIZE):
        add_posts(app, make_user(app, f"author{n}"), [f"a{n}"])
    count_queries.statements.clear()
    html = client.get("/").get_data(as_text=True)
    assert len(set(re.findall(r'href="/user/(author\d+)"', html))) == PAGE_SIZE
    assert count_queries.count == single <= 3


# Posting -----------------------------------------------------------------------------------


def test_post_with_htmx_returns_the_item_and_a_fresh_form(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    response = post_comment(client, "  hello <i>world</i>\r\nline two  ")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    # The comment with its (empty) thread, so it can be answered in place.
    assert html.startswith('<div class="thread" id="thread-')
    assert '<article class="post"' in html
    assert "hello &lt;i&gt;world&lt;/i&gt;\nline two</p>" in html
    form = html[html.index('<form id="post-form"') :]
    assert 'hx-swap-oob="true"' in form
    assert re.search(r"<textarea[^>]*>\s*</textarea>", form)  # empty again
    [post] = stored_posts(app)
    assert post.body == "hello <i>world</i>\nline two"
    with app.app_context():
        assert db.session.get(User, logged_in).post_count == 1


def test_post_without_javascript_redirects(app: Flask, client: FlaskClient, logged_in: int) -> None:
    response = post_comment(client, "plain form", htmx=False)
    assert response.status_code == 303 and response.location == "/"
    page = client.get("/").get_data(as_text=True)
    assert "Your comment is live." in page and "plain form" in page


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Write something first."),
        ("   \n\t  ", "Write something first."),
        ("x" * 281, "at most 280 characters"),
        ("nul \x00 byte", "control characters"),
        ("tab\there", "control characters"),
        ("escape \x1b[31m", "control characters"),
        ("bell \x07", "control characters"),
    ],
)
def test_invalid_comment_errors_in_the_form(
    app: Flask, client: FlaskClient, logged_in: int, body: str, message: str
) -> None:
    response = post_comment(client, body)
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#post-form"
    assert response.headers["HX-Reswap"] == "outerHTML"
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<form id="post-form"') and message in html
    plain = post_comment(client, body, htmx=False)
    assert plain.status_code == 422 and message in plain.get_data(as_text=True)
    assert stored_posts(app) == []


def test_280_characters_after_trimming_is_accepted(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    body = "é" * 280
    assert post_comment(client, f"   {body}\n\n ").status_code == 200
    assert stored_posts(app)[0].body == body


def test_posting_needs_login_and_csrf(app: Flask, client: FlaskClient, logged_in: int) -> None:
    assert client.post("/", data={"body": "no token"}).status_code == 400
    assert client.post("/", data={"body": "no token"}, headers=HTMX).status_code == 400
    anonymous = app.test_client()
    token = csrf_token(anonymous, "/login")
    response = anonymous.post("/", data={"body": "x", "csrf_token": token})
    assert response.status_code == 302 and response.location.startswith("/login")
    assert stored_posts(app) == []
