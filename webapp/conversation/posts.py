"""Comments: writing one (with its mentions), and reading pages of them."""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import NamedTuple

from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import select
from sqlalchemy import tuple_
from sqlalchemy import update

from webapp.accounts.request_user import Account
from webapp.conversation.mentions import post_mentions_column
from webapp.conversation.mentions import resolve
from webapp.conversation.mentions import save_post_mentions
from webapp.conversation.mentions import usernames
from webapp.conversation.mentions import usernames_of
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
from webapp.models import BODY_MAX_LENGTH
from webapp.models import Post
from webapp.models import User


def body_problem(body: str) -> str | None:
    """Why this comment cannot be posted, in words for the form; None when it can."""
    if not body:
        return "Write something first."
    if len(body) > BODY_MAX_LENGTH:
        return f"Comments are at most {BODY_MAX_LENGTH} characters ({len(body)} now)."
    if has_control_characters(body):
        return CONTROL_CHARACTERS_MESSAGE
    return invisible_character_problem(body)


def create_post(author: Account, body: str) -> PostView:
    """Store a comment, the accounts it mentions, and its count, in one transaction: the
    count never drifts. Returns the comment as pages show it."""
    mentioned = resolve(body)  # first: it locks the mentioned accounts (see resolve)
    post = Post(body=body, user_id=author.id)
    db.session.add(post)
    db.session.execute(
        update(User)
        .where(User.id == author.id)
        .values(post_count=User.post_count + 1)
        .execution_options(synchronize_session=False)
    )
    save_post_mentions(post.id, mentioned)
    # Read before the commit expires them: afterwards each would cost a query.
    view = PostView(
        post.id,
        post.body,
        post.timestamp,
        Author(author.username, author.username_canon),
        usernames_of(mentioned),
        user_id=author.id,
    )
    db.session.commit()
    return view


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


@cache
def page_query(by_user: bool, after_cursor: bool) -> Select:
    """The page statement, built once per shape; each request only binds its values.

    The authors come in the same statement (a join), and so do the names each comment
    mentions (a subquery per row, on the mention table's primary key), so a page is one
    query whoever wrote it and whoever it mentions; one row more than a page tells whether
    there is a next page, without a COUNT.
    """
    statement = select(
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
    )
    statement = statement.join(User, Post.user_id == User.id)
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


def _page(user_id: int | None, cursor: Cursor | None) -> Page[PostView]:
    parameters: dict[str, object] = {}
    if user_id is not None:
        parameters["user_id"] = user_id
    if cursor is not None:
        parameters.update(timestamp=cursor.timestamp, post_id=cursor.id)
    statement = page_query(user_id is not None, cursor is not None)
    rows = request_connection().execute(statement, parameters).all()
    posts = [
        PostView(id, body, timestamp, Author(name, canon), usernames(mentioned), *rest)
        for id, body, timestamp, name, canon, mentioned, *rest in rows
    ]
    if len(posts) <= PAGE_SIZE:
        return Page(posts, None)
    last = posts[PAGE_SIZE - 1]
    return Page(posts[:PAGE_SIZE], Cursor(last.timestamp, last.id))


def feed_page(cursor: Cursor | None) -> Page[PostView]:
    return _page(None, cursor)


def user_posts_page(user_id: int, cursor: Cursor | None) -> Page[PostView]:
    return _page(user_id, cursor)
