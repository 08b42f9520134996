"""Deleting an account and everything in it, with every other user's counters corrected in
the same transaction."""

from __future__ import annotations

from sqlalchemy import and_
from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import aliased

from webapp.accounts.models import User
from webapp.accounts.models import UserSession
from webapp.conversation.models import Post
from webapp.core.extensions import db
from webapp.core.transactions import retrying
from webapp.people.models import follow


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
        uncount_threads(user_id)
        # Replies others wrote under the user's top comments go too (parent_id cascades).
        db.session.execute(delete(Post).where(Post.user_id == user_id))
        db.session.execute(delete(UserSession).where(UserSession.user_id == user_id))
        db.session.execute(
            delete(User).where(User.id == user_id).execution_options(synchronize_session=False)
        )
        db.session.commit()

    retrying(work)


def uncount_threads(user_id: int) -> None:
    """Correct other users' counters for the comments that go with the account, before
    they go: a live reply of the user's lowers the reply_count of another user's top
    comment; a live reply of someone else's under one of the user's top comments (deleted
    with it, by the parent_id cascade) lowers its author's post_count. Deleted replies
    were counted out when they were deleted.

    The comments concerned are locked first (on PostgreSQL; SQLite's writers take turns),
    so a delete or Undo of one of them either finished before, and the counts below see
    it, or waits and then finds the comment gone.
    """
    reply = aliased(Post)
    top = aliased(Post)
    own_tops = select(top.id).where(top.user_id == user_id, top.parent_id.is_(None))
    db.session.execute(
        select(Post.id)
        .where((Post.user_id == user_id) | Post.parent_id.in_(own_tops))
        .order_by(Post.id)
        .with_for_update()
    )
    # Per other top comment: how many live replies of the user's it holds.
    db.session.execute(
        update(Post)
        .where(
            Post.user_id != user_id,
            Post.id.in_(
                select(reply.parent_id).where(reply.user_id == user_id, reply.deleted_at.is_(None))
            ),
        )
        .values(
            reply_count=Post.reply_count
            - select(func.count())
            .select_from(reply)
            .where(
                reply.parent_id == Post.id,
                reply.user_id == user_id,
                reply.deleted_at.is_(None),
            )
            .scalar_subquery()
        )
        .execution_options(synchronize_session=False)
    )
    # Per other author: how many live replies they wrote under the user's top comments.
    under_own_tops = and_(
        reply.parent_id == top.id,
        top.user_id == user_id,
        top.parent_id.is_(None),
        reply.user_id != user_id,
        reply.deleted_at.is_(None),
    )
    db.session.execute(
        update(User)
        .where(User.id.in_(select(reply.user_id).select_from(reply).join(top, under_own_tops)))
        .values(
            post_count=User.post_count
            - select(func.count())
            .select_from(reply)
            .join(top, under_own_tops)
            .where(reply.user_id == User.id)
            .scalar_subquery()
        )
        .execution_options(synchronize_session=False)
    )
