"""The "N new comments" check: how many top comments other people posted since the newest
one a reader's feed shows, and those comments when the reader asks for them.

The database is the only source of truth, so any number of app instances answer alike. A
check costs one statement at most, on the index of top comments, counting at most NEWS_CAP
rows: its cost does not grow with a busy feed. Usually it costs none: when this process
knows (newest.py, at most a second old) that no top comment is newer than the reader's,
nothing can be new.
"""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from functools import cache

from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import tuple_

from webapp.conversation.models import Post
from webapp.conversation.newest import is_newer
from webapp.conversation.newest import newest_top_comment
from webapp.conversation.posts import PostView
from webapp.conversation.posts import view_select
from webapp.conversation.posts import views
from webapp.core.database import request_connection
from webapp.core.pagination import PAGE_SIZE
from webapp.core.pagination import Cursor

# How often an open feed asks (seconds), while its tab is visible.
POLL_SECONDS = 20
# Counted at most; the button then says "99+".
NEWS_CAP = 100
# The cursor of an empty feed: everything is newer.
START = Cursor(datetime.fromtimestamp(0, UTC), 0)


def _newer_than_cursor():
    """Live top comments after the cursor, not by the viewer (htmx already put the viewer's
    own comments on their page)."""
    return (
        Post.parent_id.is_(None),
        Post.deleted_at.is_(None),
        Post.user_id != bindparam("viewer_id"),
        tuple_(Post.timestamp, Post.id)
        > tuple_(bindparam("timestamp", type_=Post.timestamp.type), bindparam("post_id")),
    )


@cache
def count_query() -> Select:
    """SELECT count(*) FROM (SELECT id ... ORDER BY timestamp, id LIMIT NEWS_CAP): the LIMIT
    inside bounds the walk. The order is the index's: without it PostgreSQL may collect
    every newer comment in a bitmap first (a tab left open all day would read thousands at
    each check); with it, it walks the index and stops at the cap."""
    newer = (
        select(Post.id)
        .where(*_newer_than_cursor())
        .order_by(Post.timestamp, Post.id)
        .limit(NEWS_CAP)
        .subquery()
    )
    return select(func.count()).select_from(newer)


@cache
def count_and_newest_query() -> Select:
    """The newest top comment (live or not), with count_query's count alongside: one
    statement when the newest comment this process knows of is too old to trust. No row:
    there is no top comment at all."""
    return (
        select(Post.timestamp, Post.id, count_query().scalar_subquery().label("new"))
        .where(Post.parent_id.is_(None))
        .order_by(Post.timestamp.desc(), Post.id.desc())
        .limit(1)
    )


@cache
def items_query() -> Select:
    """The oldest page of new comments, oldest first, with the columns of every page of
    comments (posts.view_select): taking them from the cursor upwards leaves no gap, and
    any newer ones are announced by the next check."""
    return (
        view_select()
        .where(*_newer_than_cursor())
        .order_by(Post.timestamp, Post.id)
        .limit(PAGE_SIZE)
    )


def _parameters(after: Cursor, viewer_id: int) -> dict[str, object]:
    return {"viewer_id": viewer_id, "timestamp": after.timestamp, "post_id": after.id}


def count_new(after: Cursor, viewer_id: int) -> int:
    """How many (at most NEWS_CAP) top comments by others came after the cursor."""
    newest = newest_top_comment()
    known = newest.fresh()
    parameters = _parameters(after, viewer_id)
    if known is None:
        row = request_connection().execute(count_and_newest_query(), parameters).one_or_none()
        newest.read(Cursor(row.timestamp, row.id) if row else None)
        return row.new if row else 0
    if not is_newer(known.newest, after):
        return 0  # no statement: nothing at all is newer than the reader's newest
    return request_connection().execute(count_query(), parameters).scalar_one()


def new_posts(after: Cursor, viewer_id: int) -> list[PostView]:
    """Up to a page of them, newest first, as the feed shows them."""
    rows = request_connection().execute(items_query(), _parameters(after, viewer_id))
    return views(rows)[::-1]


def news_label(count: int) -> str:
    if count >= NEWS_CAP:
        return f"{NEWS_CAP - 1}+ new comments"
    return f"{count} new comment{'' if count == 1 else 's'}"


def newest_cursor(posts: list[PostView], default: Cursor) -> Cursor:
    """The cursor of the newest comment of a newest-first list."""
    return Cursor(posts[0].timestamp, posts[0].id) if posts else default
