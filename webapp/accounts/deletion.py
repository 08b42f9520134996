"""Deleting an account and everything in it, with every other user's counters corrected in
the same transaction."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import aliased

from webapp.core.extensions import db
from webapp.core.transactions import retrying
from webapp.models import Post
from webapp.models import User
from webapp.models import UserSession
from webapp.models import follow


def delete_account(user_id: int) -> None:
    """Delete the user, their comments, sessions and follows in both directions.

    The user's row is locked first: a follow of them that starts later waits, then finds
    no user (its foreign key fails) instead of raising a counter of a follow that is about
    to vanish; one that started earlier is waited for and then counted. A transaction
    caught in a lock cycle with an unfollow is run again (see transactions.py).
    """

    def work() -> None:
        db.session.execute(select(User.id).where(User.id == user_id).with_for_update())
        followed = select(follow.c.followed_id).where(follow.c.follower_id == user_id)
        followers = select(follow.c.follower_id).where(follow.c.followed_id == user_id)
        db.session.execute(
            update(User)
            .where(User.id.in_(followed))
            .values(follower_count=User.follower_count - 1)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(User)
            .where(User.id.in_(followers))
            .values(following_count=User.following_count - 1)
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            delete(follow).where(
                (follow.c.follower_id == user_id) | (follow.c.followed_id == user_id)
            )
        )
        uncount_replies(user_id)
        db.session.execute(delete(Post).where(Post.user_id == user_id))
        db.session.execute(delete(UserSession).where(UserSession.user_id == user_id))
        db.session.execute(
            delete(User).where(User.id == user_id).execution_options(synchronize_session=False)
        )
        db.session.commit()

    retrying(work)


def uncount_replies(user_id: int) -> None:
    """The counts the user's comments leave behind when they go: other people's replies to
    the user's top comments go with them (ON DELETE CASCADE), so their authors' post_count
    drops; the user's live replies leave other people's threads, whose reply_count drops.
    Users before posts, as every writer locks them."""
    reply, top = aliased(Post), aliased(Post)
    under_theirs = (
        select(reply.user_id)
        .join(top, reply.parent_id == top.id)
        .where(top.user_id == user_id, reply.user_id != user_id, reply.deleted_at.is_(None))
    )
    counted = (
        select(func.count())
        .select_from(reply)
        .join(top, reply.parent_id == top.id)
        .where(top.user_id == user_id, reply.user_id == User.id, reply.deleted_at.is_(None))
        .scalar_subquery()
    )
    db.session.execute(
        update(User)
        .where(User.id.in_(under_theirs))
        .values(post_count=User.post_count - counted)
        .execution_options(synchronize_session=False)
    )
    mine = aliased(Post)
    threads = select(mine.parent_id).where(
        mine.user_id == user_id, mine.parent_id.is_not(None), mine.deleted_at.is_(None)
    )
    leaving = (
        select(func.count())
        .select_from(mine)
        .where(mine.parent_id == Post.id, mine.user_id == user_id, mine.deleted_at.is_(None))
        .scalar_subquery()
    )
    db.session.execute(
        update(Post)
        .where(Post.id.in_(threads), Post.user_id != user_id)
        .values(reply_count=Post.reply_count - leaving)
        .execution_options(synchronize_session=False)
    )
