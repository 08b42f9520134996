"""Deleting an account and everything in it, with every other user's counters corrected in
the same transaction."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import update

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
        db.session.execute(delete(Post).where(Post.user_id == user_id))
        db.session.execute(delete(UserSession).where(UserSession.user_id == user_id))
        db.session.execute(
            delete(User).where(User.id == user_id).execution_options(synchronize_session=False)
        )
        db.session.commit()

    retrying(work)
