"""The "N new comments" check (GET /feed/new) and the comments it brings (GET
/feed/new/items): what is counted, the 204 when nothing is new, the cap, bad cursors, login,
and what each request costs in SQL."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy import update

from tests.conftest import HTMX
from tests.conftest import QueryCounter
from tests.conftest import add_posts
from tests.conftest import make_app
from tests.conftest import make_user
from tests.conftest import on_postgres
from tests.conversation.test_feed import post_comment
from tests.conversation.test_feed import post_ids
from webapp.conversation import news
from webapp.conversation.models import Post
from webapp.conversation.newest import DEFAULT_MAX_AGE_SECONDS
from webapp.conversation.newest import is_newer
from webapp.conversation.newest import newest_top_comment
from webapp.core.extensions import db
from webapp.core.pagination import PAGE_SIZE
from webapp.core.pagination import Cursor
from webapp.core.timeutil import utcnow

CHECK_URL = re.compile(r'hx-get="(/feed/new\?after=[^"]+)"')
ITEMS_URL = re.compile(r'hx-get="(/feed/new/items\?after=[^"]+)"')


def url_in(pattern: re.Pattern[str], html: str) -> str:
    match = pattern.search(html)
    assert match, html
    return match.group(1).replace("&amp;", "&")


def check_url(client: FlaskClient) -> str:
    """The check the feed's poller makes, as the feed page writes it."""
    return url_in(CHECK_URL, client.get("/").get_data(as_text=True))


def check(client: FlaskClient, url: str):
    return client.get(url, headers=HTMX)


def cursor_of(app: Flask, post_id: int) -> str:
    with app.app_context():
        post = db.session.get(Post, post_id)
        return Cursor(post.timestamp, post.id).encode()


@pytest.mark.usefixtures("logged_in")
def test_nothing_new_is_204_with_no_body(app: Flask, client: FlaskClient) -> None:
    add_posts(app, make_user(app, "bob"), ["already on the page"])
    response = check(client, check_url(client))
    assert response.status_code == 204
    assert response.get_data() == b""


@pytest.mark.usefixtures("logged_in")
def test_feed_polls_from_its_newest_comment(app: Flask, client: FlaskClient) -> None:
    bob = make_user(app, "bob")
    older, newest = add_posts(app, bob, ["older", "newest"])
    html = client.get("/").get_data(as_text=True)
    region = html[html.index('id="new-comments"') :]
    region = region[: region.index('<div id="feed-items">')]
    assert 'role="status"' in html[html.rindex("<div", 0, html.index('id="new-comments"')) :]
    assert 'data-poll="20"' in region and 'hx-trigger="poll:tick"' in region
    assert url_in(CHECK_URL, region) == f"/feed/new?after={cursor_of(app, newest)}"
    assert "new comment" not in region  # no button until there is news
    # An older page has no poller: its top is not the top of the feed.
    older_page = client.get(f"/?before={cursor_of(app, newest)}").get_data(as_text=True)
    assert "data-poll" not in older_page and post_ids(older_page) == [older]


@pytest.mark.usefixtures("logged_in")
def test_empty_feed_polls_from_the_start(app: Flask, client: FlaskClient) -> None:
    url = check_url(client)
    assert url == "/feed/new?after=0_0"
    assert check(client, url).status_code == 204
    add_posts(app, make_user(app, "bob"), ["first!"])
    assert "1 new comment<" in check(client, url).get_data(as_text=True)


def test_counts_others_live_top_comments_only(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    bob = make_user(app, "bob")
    (top,) = add_posts(app, bob, ["on the page"])
    url = check_url(client)
    add_posts(app, logged_in, ["mine: htmx already showed it"])
    new = add_posts(app, bob, ["new one", "new two", "new three", "deleted"])
    reply = add_posts(app, bob, ["a reply"])
    with app.app_context():
        db.session.execute(update(Post).where(Post.id == new[3]).values(deleted_at=utcnow()))
        db.session.execute(update(Post).where(Post.id == reply[0]).values(parent_id=top))
        db.session.commit()
    response = check(client, url)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert ">3 new comments</button>" in html
    # The button brings exactly those three, newest first; the poller moves past them.
    items = client.get(url_in(ITEMS_URL, html), headers=HTMX).get_data(as_text=True)
    assert post_ids(items) == [new[2], new[1], new[0]]
    assert 'id="new-comments" hx-swap-oob="innerHTML"' in items
    next_check = url_in(CHECK_URL, items)
    assert next_check == f"/feed/new?after={cursor_of(app, new[2])}"
    assert check(client, next_check).status_code == 204  # not announced again


@pytest.mark.usefixtures("logged_in")
def test_one_new_comment_is_singular(app: Flask, client: FlaskClient) -> None:
    url = check_url(client)
    add_posts(app, make_user(app, "bob"), ["hello"])
    html = check(client, url).get_data(as_text=True)
    assert ">1 new comment</button>" in html
    assert 'id="new-comments-button"' in html and "data-keep-view" in html


@pytest.mark.usefixtures("logged_in")
def test_same_count_as_the_button_shows_is_204(app: Flask, client: FlaskClient) -> None:
    url = check_url(client)
    bob = make_user(app, "bob")
    add_posts(app, bob, ["one", "two"])
    html = check(client, url).get_data(as_text=True)
    again = url_in(CHECK_URL, html)
    assert again.endswith("&shown=2")
    assert check(client, again).status_code == 204  # a screen reader hears it once
    add_posts(app, bob, ["three"])
    assert ">3 new comments</button>" in check(client, again).get_data(as_text=True)


@pytest.mark.usefixtures("logged_in")
def test_count_is_capped_and_more_than_a_page_reloads_the_top(
    app: Flask, client: FlaskClient
) -> None:
    url = check_url(client)
    bob = make_user(app, "bob")
    add_posts(app, bob, [f"n{n}" for n in range(PAGE_SIZE + 1)])
    html = check(client, url).get_data(as_text=True)
    assert f">{PAGE_SIZE + 1} new comments</a>" in html
    assert 'href="/"' in html and "/feed/new/items" not in html
    add_posts(app, bob, [f"m{n}" for n in range(news.NEWS_CAP - PAGE_SIZE)])
    assert ">99+ new comments</a>" in check(client, url).get_data(as_text=True)


@pytest.mark.usefixtures("logged_in")
def test_items_bring_at_most_a_page_from_the_cursor_up(app: Flask, client: FlaskClient) -> None:
    """More new comments than a page (they came between the check and the click): the
    oldest page of them, so nothing is skipped; the next check announces the rest."""
    url = check_url(client)
    bob = make_user(app, "bob")
    start = utcnow() - timedelta(minutes=10)
    ids = [
        add_posts(app, bob, [f"n{n}"], timestamp=start + timedelta(seconds=n))[0]
        for n in range(PAGE_SIZE + 2)
    ]
    items_url = url.replace("/feed/new?", "/feed/new/items?")
    items = client.get(items_url, headers=HTMX).get_data(as_text=True)
    assert post_ids(items) == ids[:PAGE_SIZE][::-1]
    rest = check(client, url_in(CHECK_URL, items)).get_data(as_text=True)
    assert ">2 new comments</button>" in rest


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize(
    "after",
    ["", "abc", "12", "12_", "_12", "-1_2", "1_2x", "1_ 2", "1__2", "9" * 18 + "_1", "1.5_2"],
)
@pytest.mark.parametrize("path", ["/feed/new", "/feed/new/items"])
def test_forged_cursor_is_400(client: FlaskClient, path: str, after: str) -> None:
    assert client.get(path, query_string={"after": after}, headers=HTMX).status_code == 400


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize("path", ["/feed/new", "/feed/new/items"])
def test_missing_cursor_is_400(client: FlaskClient, path: str) -> None:
    assert client.get(path, headers=HTMX).status_code == 400


@pytest.mark.parametrize("path", ["/feed/new?after=0_0", "/feed/new/items?after=0_0"])
def test_login_required(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers=HTMX)
    assert response.status_code == 401 and response.headers["HX-Redirect"].startswith("/login")
    response = client.get(path)
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


@pytest.mark.usefixtures("logged_in")
def test_own_htmx_post_is_not_announced(client: FlaskClient) -> None:
    url = check_url(client)
    assert post_comment(client, "my own").status_code == 200
    assert check(client, url).status_code == 204


def warm(client: FlaskClient, url: str) -> None:
    """The first request may record "last seen"; what is measured is the steady cost."""
    check(client, url)


def post_statements(counter: QueryCounter) -> list[str]:
    return [s for s in counter.statements if re.search(r"\bFROM post\b", s)]


@pytest.mark.usefixtures("logged_in")
def test_check_costs_one_statement_beyond_the_user(
    app: Flask, client: FlaskClient, count_queries: QueryCounter
) -> None:
    url = check_url(client)
    add_posts(app, make_user(app, "bob"), [f"n{n}" for n in range(3)])
    warm(client, url)
    for expected_status in (200, 204):
        count_queries.statements.clear()
        response = check(client, url if expected_status == 200 else url + "&shown=3")
        assert response.status_code == expected_status
        # The session's user (one statement) and the count.
        assert count_queries.count == 2, count_queries.statements
        assert len(post_statements(count_queries)) == 1


@pytest.mark.usefixtures("logged_in")
def test_nothing_new_costs_no_statement_beyond_the_user(
    app: Flask, client: FlaskClient, count_queries: QueryCounter
) -> None:
    """The usual answer: the reader's newest comment is the newest there is, which this
    process read (with the count) at the first check and trusts for a second."""
    add_posts(app, make_user(app, "bob"), ["the newest there is"])
    url = check_url(client)
    count_queries.statements.clear()
    assert check(client, url).status_code == 204  # reads the newest comment, and counts
    assert len(post_statements(count_queries)) == 1, count_queries.statements
    count_queries.statements.clear()
    assert check(client, url).status_code == 204
    assert count_queries.count == 1 and not post_statements(count_queries)


def trust_newest_for(app: Flask, seconds: float) -> None:
    with app.app_context():
        newest_top_comment().max_age = seconds


@pytest.mark.usefixtures("logged_in")
def test_comment_posted_through_this_instance_is_announced_at_once(
    app: Flask, client: FlaskClient
) -> None:
    trust_newest_for(app, 3600)
    url = check_url(client)
    assert check(client, url).status_code == 204  # this instance now knows: no comment
    add_posts(app, make_user(app, "bob"), ["posted here"])
    assert ">1 new comment</button>" in check(client, url).get_data(as_text=True)


@pytest.mark.usefixtures("logged_in")
def test_comment_posted_through_another_instance_is_announced_once_trust_runs_out(
    app: Flask, client: FlaskClient, database_url: str
) -> None:
    """Another app instance on the same database: the reader's instance learns of its
    comment from the database when what it knows is older than its max age."""
    with app.app_context():
        assert newest_top_comment().max_age == DEFAULT_MAX_AGE_SECONDS == 1.0
    trust_newest_for(app, 3600)
    other_instance = make_app(database_url)
    url = check_url(client)
    assert check(client, url).status_code == 204
    add_posts(other_instance, make_user(other_instance, "bob"), ["posted elsewhere"])
    assert check(client, url).status_code == 204  # trusted: not read again yet
    trust_newest_for(app, 0.2)
    time.sleep(0.2)
    assert ">1 new comment</button>" in check(client, url).get_data(as_text=True)


@pytest.mark.usefixtures("logged_in")
def test_items_cost_one_statement_beyond_the_user(
    app: Flask, client: FlaskClient, count_queries: QueryCounter
) -> None:
    url = check_url(client)
    for n in range(5):  # five authors, mentions included: still one statement
        add_posts(app, make_user(app, f"author{n}"), [f"hi @alice {n}"])
    items_url = url.replace("/feed/new?", "/feed/new/items?")
    warm(client, items_url)
    count_queries.statements.clear()
    items = client.get(items_url, headers=HTMX).get_data(as_text=True)
    assert len(post_ids(items)) == 5
    assert count_queries.count == 2, count_queries.statements


@pytest.mark.parametrize("query", [news.count_query, news.count_and_newest_query])
def test_count_walks_top_comments_only(app: Flask, query) -> None:
    """The check's statements are index range scans, not walks of the table (on PostgreSQL
    with sequential scans off: the planner prefers them on a tiny table), through an index
    of the top comments only: replies, however many, are not walked."""
    with app.app_context():
        compiled = query().compile(dialect=db.engine.dialect)
        # The plan does not depend on the values; a string timestamp suits both drivers.
        values = {"viewer_id": 1, "timestamp": "2026-01-01 00:00:00", "post_id": 1}
        params = compiled.construct_params(values)
        connection = db.session.connection()
        if on_postgres():
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            result = connection.exec_driver_sql(f"EXPLAIN {compiled.string}", params)
            plan = [row[0] for row in result]
        else:
            positional = tuple(params[name] for name in compiled.positiontup)
            result = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled.string}", positional)
            plan = [row[-1] for row in result]
        db.session.rollback()
    # Either index holds only top comments where it is searched (SQLite takes parent_id IS
    # NULL as an equality on the wider one; PostgreSQL cannot, and takes the partial one).
    exact = ("ix_post_top_timestamp_id", "ix_post_parent_id_timestamp_id (parent_id=?")
    assert any(index in line for line in plan for index in exact), plan
    assert not any(re.search(r"Seq Scan|SCAN post\b", line) for line in plan), plan


def test_a_check_after_the_session_ended_is_refused_without_leaving_the_page(
    client: FlaskClient,
) -> None:
    """The poller marks its requests as background ones: refused (401) like any htmx
    request without a session, but with no HX-Redirect to the login page."""
    response = client.get("/feed/new?after=0_0", headers={**HTMX, "Hoverfeed-Background": "true"})
    assert response.status_code == 401 and "HX-Redirect" not in response.headers


def test_cursors_compare_in_feed_order_time_first_then_id() -> None:
    now = utcnow()
    earlier, same_time_lower_id, latest = Cursor(now, 9), Cursor(now, 7), Cursor(now, 10)
    assert sorted([latest, earlier, same_time_lower_id]) == [same_time_lower_id, earlier, latest]
    assert Cursor(now - timedelta(microseconds=1), 10**9) < same_time_lower_id
    assert is_newer(latest, earlier) and not is_newer(earlier, latest)
    assert not is_newer(earlier, earlier)
    assert is_newer(earlier, None) and not is_newer(None, earlier) and not is_newer(None, None)
