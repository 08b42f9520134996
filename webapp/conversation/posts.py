"""Comments: writing one (with its mentions), and reading pages of them."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from datetime import timedelta
from functools import cache
from typing import NamedTuple

from sqlalchemy import ColumnElement
from sqlalchemy import Row
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import tuple_
from sqlalchemy import update

from webapp.accounts.models import User
from webapp.accounts.request_user import Account
from webapp.conversation.mentions import MentionedUser
from webapp.conversation.mentions import post_mentions_column
from webapp.conversation.mentions import resolve
from webapp.conversation.mentions import save_post_mentions
from webapp.conversation.mentions import usernames
from webapp.conversation.mentions import usernames_of
from webapp.conversation.models import BODY_MAX_LENGTH
from webapp.conversation.models import Post
from webapp.conversation.newest import newest_top_comment
from webapp.conversation.segments import Segment
from webapp.conversation.segments import segment
from webapp.core.database import request_connection
from webapp.core.extensions import db
from webapp.core.pagination import PAGE_SIZE
from webapp.core.pagination import Cursor
from webapp.core.pagination import Page
from webapp.core.textrules import CONTROL_CHARACTERS_MESSAGE
from webapp.core.textrules import has_control_characters
from webapp.core.textrules import invisible_character_problem
from webapp.core.timeutil import utcnow
from webapp.core.transactions import retrying


def body_problem(body: str) -> str | None:
    """Why this comment cannot be posted, in words for the form; None when it can."""
    if not body:
        return "Write something first."
    if len(body) > BODY_MAX_LENGTH:
        return f"Comments are at most {BODY_MAX_LENGTH} characters ({len(body)} now)."
    if has_control_characters(body):
        return CONTROL_CHARACTERS_MESSAGE
    return invisible_character_problem(body)


# The same text posted again by the same person, under the same comment, this soon is a
# double click or a resent form: it makes no second comment.
DUPLICATE_WINDOW = timedelta(seconds=5)


class NoSuchComment(LookupError):
    """The comment being answered does not exist, or was deleted."""


def create_post(author: Account, body: str, reply_to: int | None = None) -> PostView:
    """Store a comment (a reply when `reply_to` names the comment it answers); see
    post_comment. Returns the comment as pages show it."""
    return post_comment(author, body, reply_to)[0]


def post_comment(author: Account, body: str, reply_to: int | None = None) -> tuple[PostView, bool]:
    """Store a comment, the accounts it mentions and the counts it changes (the author's
    comments, the thread's replies) in one transaction: the counts never drift.

    A reply to a reply joins the same thread: its parent is the top comment. Returns the
    comment as pages show it, and whether it is new: the same text from the same author
    under the same parent within DUPLICATE_WINDOW is not stored twice, the earlier comment
    is returned instead. Raises NoSuchComment when `reply_to` is unknown or deleted.

    Run again when PostgreSQL picks it as a deadlock victim (see transactions.py): it locks
    the author, then the answered comment, while deleting a comment or an account locks
    comments, then users.
    """
    return retrying(lambda: _post_comment(author, body, reply_to))


def _post_comment(author: Account, body: str, reply_to: int | None) -> tuple[PostView, bool]:
    mentioned = resolve(body)  # first: it locks the mentioned accounts (see resolve)
    # The author's row next: on PostgreSQL this UPDATE locks it until the commit, so two
    # requests of one author take turns here and the second sees the first's comment
    # below (SQLite's writers take turns anyway: BEGIN IMMEDIATE).
    db.session.execute(
        update(User)
        .where(User.id == author.id)
        .values(post_count=User.post_count + 1)
        .execution_options(synchronize_session=False)
    )
    parent_id = None
    if reply_to is not None:
        parent_id = _lock_reply_target(reply_to)
        if parent_id is None:
            db.session.rollback()
            raise NoSuchComment(reply_to)
    earlier = _recent_duplicate(author, body, parent_id, mentioned)
    if earlier is not None:
        db.session.rollback()  # the count goes back with it
        return earlier, False
    if parent_id is not None:
        db.session.execute(
            update(Post)
            .where(Post.id == parent_id)
            .values(reply_count=Post.reply_count + 1)
            .execution_options(synchronize_session=False)
        )
    post = Post(body=body, user_id=author.id, parent_id=parent_id)
    db.session.add(post)
    db.session.flush()
    save_post_mentions(post.id, mentioned)
    # Read before the commit expires them: afterwards each would cost a query.
    view = PostView(
        post.id,
        post.body,
        post.timestamp,
        Author(author.username, author.username_canon),
        usernames_of(mentioned),
        user_id=author.id,
        parent_id=parent_id,
    )
    db.session.commit()
    if parent_id is None:
        # This process's checks announce it from now on, without waiting to read it.
        newest_top_comment().posted(Cursor(view.timestamp, view.id))
    return view, True


def _lock_reply_target(comment_id: int) -> int | None:
    """The top comment of the thread a reply to `comment_id` joins, or None when that
    comment is gone. The answered row stays locked until the commit, so a delete running
    at the same moment either waits for the reply or happens first (and the reply is
    refused): never a reply stored under a comment deleted before it. (A live reply under
    a deleted top comment can still be answered: the thread goes on under its
    placeholder, as on Mastodon.)"""
    row = db.session.execute(
        select(Post.id, Post.parent_id)
        .where(Post.id == comment_id, Post.deleted_at.is_(None))
        .with_for_update(key_share=True)
    ).first()
    if row is None:
        return None
    return row.parent_id if row.parent_id is not None else row.id


def _recent_duplicate(
    author: Account, body: str, parent_id: int | None, mentioned: list[MentionedUser]
) -> PostView | None:
    row = db.session.execute(
        select(Post.id, Post.timestamp, Post.reply_count)
        .where(
            Post.user_id == author.id,
            Post.parent_id.is_(None) if parent_id is None else Post.parent_id == parent_id,
            Post.body == body,
            Post.timestamp > utcnow() - DUPLICATE_WINDOW,
            Post.deleted_at.is_(None),
        )
        .order_by(Post.timestamp.desc(), Post.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return PostView(
        row.id,
        body,
        row.timestamp,
        Author(author.username, author.username_canon),
        usernames_of(mentioned),
        user_id=author.id,
        parent_id=parent_id,
        reply_count=row.reply_count,
    )


class Author(NamedTuple):
    username: str
    username_canon: str


class PostView(NamedTuple):
    """A comment as a page shows it: plain values from one row, no ORM objects (a page of
    twenty comments with their authors costs a fraction of loading entities)."""

    id: int
    body: str
    timestamp: datetime
    author: Author
    # The usernames of the accounts the comment mentions that still exist.
    mentioned: frozenset[str]
    user_id: int = 0
    # None for a top comment; else the top comment this reply belongs to.
    parent_id: int | None = None
    # A top comment's live replies (a counter column, no COUNT).
    reply_count: int = 0
    edited_at: datetime | None = None
    # A deleted top comment that still has replies is shown as a placeholder.
    deleted: bool = False
    # In the feed: a top comment's latest replies, oldest first.
    replies: tuple[PostView, ...] = ()

    @property
    def segments(self) -> tuple[Segment, ...]:
        return segment(self.body, self.mentioned)

    @property
    def cursor(self) -> str:
        """This comment's place in keyset order, as a page link carries it."""
        return Cursor(self.timestamp, self.id).encode()


@cache
def page_query(by_user: bool, after_cursor: bool) -> Select:
    """The page statement, built once per shape; each request only binds its values.

    The authors come in the same statement (a join), and so do the names each comment
    mentions (a subquery per row, on the mention table's primary key), so a page is one
    query whoever wrote it and whoever it mentions; one row more than a page tells whether
    there is a next page, without a COUNT.
    """
    statement = view_select()
    if by_user:
        # A profile lists the user's live comments, replies included.
        statement = statement.where(Post.user_id == bindparam("user_id"), Post.deleted_at.is_(None))
    else:
        # The feed lists top comments; a deleted one stays (as a placeholder) while it has
        # replies.
        statement = statement.where(
            Post.parent_id.is_(None), Post.deleted_at.is_(None) | (Post.reply_count > 0)
        )
    if after_cursor:
        statement = statement.where(
            tuple_(Post.timestamp, Post.id)
            < tuple_(bindparam("timestamp", type_=Post.timestamp.type), bindparam("post_id"))
        )
    return statement.order_by(Post.timestamp.desc(), Post.id.desc()).limit(PAGE_SIZE + 1)


def view_select() -> Select:
    """A statement's columns for PostView rows (see _views): the comment, its author (a
    join) and the names it mentions (a subquery per row)."""
    return select(
        Post.id,
        Post.body,
        Post.timestamp,
        User.username,
        User.username_canon,
        post_mentions_column(Post.id),
        Post.user_id,
        Post.parent_id,
        Post.reply_count,
        Post.edited_at,
        Post.deleted_at.is_not(None),
    ).join(User, Post.user_id == User.id)


def views(rows: Iterable[Row]) -> list[PostView]:
    return [
        PostView(id, body, timestamp, Author(name, canon), usernames(mentioned), *rest)
        for id, body, timestamp, name, canon, mentioned, *rest in rows
    ]


def _page(user_id: int | None, cursor: Cursor | None) -> Page[PostView]:
    parameters: dict[str, object] = {}
    if user_id is not None:
        parameters["user_id"] = user_id
    if cursor is not None:
        parameters.update(timestamp=cursor.timestamp, post_id=cursor.id)
    statement = page_query(user_id is not None, cursor is not None)
    posts = views(request_connection().execute(statement, parameters))
    if len(posts) <= PAGE_SIZE:
        return Page(posts, None)
    last = posts[PAGE_SIZE - 1]
    return Page(posts[:PAGE_SIZE], Cursor(last.timestamp, last.id))


def feed_page(cursor: Cursor | None) -> Page[PostView]:
    """A page of top comments, each with its latest replies: two statements however many
    comments and replies (one when no comment on the page has a reply)."""
    page = _page(None, cursor)
    threads = [post.id for post in page.items if post.reply_count > 0]
    if not threads:
        return page
    replies = latest_replies(threads)
    items = [
        post._replace(replies=tuple(replies[post.id])) if post.id in replies else post
        for post in page.items
    ]
    return Page(items, page.next_cursor)


def user_posts_page(user_id: int, cursor: Cursor | None) -> Page[PostView]:
    return _page(user_id, cursor)


# Threads -----------------------------------------------------------------------------------

# A feed item shows this many of its latest replies; "Show all N replies" brings the rest.
FEED_REPLIES = 2
# A thread page (and each "Show earlier replies") shows this many replies.
REPLIES_PAGE_SIZE = 50


@cache
def latest_replies_query() -> Select:
    """The latest FEED_REPLIES live replies of each of the comments `top_ids`, in one
    statement: row_number() numbers each thread's replies newest first (the window walks
    the (parent_id, timestamp, id) index), the outer statement keeps the first few and
    joins the authors and mentioned names, as a page does."""
    rank = (
        func.row_number()
        .over(partition_by=Post.parent_id, order_by=(Post.timestamp.desc(), Post.id.desc()))
        .label("rank")
    )
    ranked = (
        select(Post.id, rank)
        .where(Post.parent_id.in_(bindparam("top_ids", expanding=True)), Post.deleted_at.is_(None))
        .subquery()
    )
    return (
        view_select()
        .join(ranked, ranked.c.id == Post.id)
        .where(ranked.c.rank <= FEED_REPLIES)
        .order_by(Post.parent_id, Post.timestamp, Post.id)
    )


def latest_replies(top_ids: list[int]) -> dict[int, list[PostView]]:
    """Top comment id -> its latest replies, oldest first."""
    rows = request_connection().execute(latest_replies_query(), {"top_ids": top_ids})
    threads: dict[int, list[PostView]] = {}
    for reply in views(rows):
        threads.setdefault(reply.parent_id, []).append(reply)
    return threads


@cache
def comment_query() -> Select:
    return view_select().where(Post.id == bindparam("post_id"))


def find_comment(post_id: int) -> PostView | None:
    """One comment (top or reply, deleted or not: the caller decides what to show)."""
    rows = request_connection().execute(comment_query(), {"post_id": post_id})
    found = views(rows)
    return found[0] if found else None


def is_shown(comment: PostView) -> bool:
    """Whether a page may show this comment: a live one, or a deleted top comment that
    still has replies (a placeholder holding its thread)."""
    return not comment.deleted or (comment.parent_id is None and comment.reply_count > 0)


@cache
def replies_query(before_cursor: bool, size: int) -> Select:
    """A page of a thread's live replies, newest first (the caller puts them in reading
    order), from a (timestamp, id) cursor: keyset, so the thousandth page costs what the
    first does."""
    statement = view_select().where(
        Post.parent_id == bindparam("top_id"), Post.deleted_at.is_(None)
    )
    if before_cursor:
        statement = statement.where(
            tuple_(Post.timestamp, Post.id)
            < tuple_(bindparam("timestamp", type_=Post.timestamp.type), bindparam("post_id"))
        )
    # One row more than a page tells whether there are earlier replies, without a COUNT.
    return statement.order_by(Post.timestamp.desc(), Post.id.desc()).limit(size + 1)


def replies_page(
    top_id: int, before: Cursor | None, size: int = REPLIES_PAGE_SIZE
) -> Page[PostView]:
    """The `size` latest replies of a thread older than `before` (all of them when None),
    oldest first; the page's cursor, when there are earlier replies still, points at its
    oldest reply (for "Show earlier replies")."""
    parameters: dict[str, object] = {"top_id": top_id}
    if before is not None:
        parameters.update(timestamp=before.timestamp, post_id=before.id)
    replies = views(
        request_connection().execute(replies_query(before is not None, size), parameters)
    )
    earlier = len(replies) > size
    replies = replies[:size][::-1]
    return Page(replies, Cursor(replies[0].timestamp, replies[0].id) if earlier else None)


def newer_replies(reply: PostView, at_most: int) -> int:
    """How many live replies of its thread came after `reply`, counting no further than
    `at_most` (a bounded count: it stops there, whatever the thread's size)."""
    newer = (
        select(Post.id)
        .where(
            Post.parent_id == reply.parent_id,
            Post.deleted_at.is_(None),
            tuple_(Post.timestamp, Post.id) > tuple_(literal_timestamp(reply.timestamp), reply.id),
        )
        .limit(at_most)
        .subquery()
    )
    return request_connection().execute(select(func.count()).select_from(newer)).scalar_one()


def literal_timestamp(moment: datetime) -> ColumnElement:
    return bindparam("moment", moment, type_=Post.timestamp.type)


def thread_exists(top_id: int) -> bool:
    """A top comment a page shows (live, or deleted with replies)."""
    return (
        request_connection()
        .execute(
            select(Post.id).where(
                Post.id == top_id,
                Post.parent_id.is_(None),
                Post.deleted_at.is_(None) | (Post.reply_count > 0),
            )
        )
        .first()
        is not None
    )
