"""Comments: writing one, and reading pages of them."""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy import select
from sqlalchemy import tuple_
from sqlalchemy import update
from sqlalchemy.orm import contains_eager

from webapp.extensions import db
from webapp.models import BODY_MAX_LENGTH
from webapp.models import Post
from webapp.models import User
from webapp.pagination import PAGE_SIZE
from webapp.pagination import Cursor
from webapp.pagination import Page
from webapp.textrules import CONTROL_CHARACTERS_MESSAGE
from webapp.textrules import has_control_characters


def body_problem(body: str) -> str | None:
    """Why this comment cannot be posted, in words for the form; None when it can."""
    if not body:
        return "Write something first."
    if len(body) > BODY_MAX_LENGTH:
        return f"Comments are at most {BODY_MAX_LENGTH} characters ({len(body)} now)."
    if has_control_characters(body):
        return CONTROL_CHARACTERS_MESSAGE
    return None


def create_post(author: User, body: str) -> Post:
    """Store a comment and count it, in one transaction: the count never drifts."""
    post = Post(body=body, user_id=author.id)
    db.session.add(post)
    db.session.execute(
        update(User)
        .where(User.id == author.id)
        .values(post_count=User.post_count + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return post


def _page(statement: Select, cursor: Cursor | None) -> Page[Post]:
    if cursor is not None:
        statement = statement.where(
            tuple_(Post.timestamp, Post.id) < tuple_(cursor.timestamp, cursor.id)
        )
    # One row more than a page tells whether there is a next page, without a COUNT.
    statement = statement.order_by(Post.timestamp.desc(), Post.id.desc()).limit(PAGE_SIZE + 1)
    posts = list(db.session.scalars(statement))
    if len(posts) <= PAGE_SIZE:
        return Page(posts, None)
    last = posts[PAGE_SIZE - 1]
    return Page(posts[:PAGE_SIZE], Cursor(last.timestamp, last.id))


def _with_authors() -> Select:
    # The authors come in the same statement: a page costs one query whoever wrote it.
    return select(Post).join(Post.author).options(contains_eager(Post.author))


def feed_page(cursor: Cursor | None) -> Page[Post]:
    return _page(_with_authors(), cursor)


def user_posts_page(user_id: int, cursor: Cursor | None) -> Page[Post]:
    return _page(_with_authors().where(Post.user_id == user_id), cursor)
