"""Following: idempotent, with the counters changed in the same transaction."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import IntegrityError

from webapp.accounts.models import User
from webapp.core.extensions import db
from webapp.core.transactions import retrying
from webapp.people.models import follow as follow_table


class CannotFollowSelf(ValueError):
    pass


class UserGone(LookupError):
    """The account was deleted while the follow was being made."""


def _adjust_counts(follower_id: int, followed_id: int, delta: int) -> None:
    """`SET n = n + 1` in SQL, so concurrent follows never lose an increment.

    The two rows are updated in id order: when A follows B while B follows A, both
    transactions lock the lower id first, and neither waits for the other in a cycle
    (PostgreSQL would end one of them with a deadlock error).
    """
    changes = {
        follower_id: {"following_count": User.following_count + delta},
        followed_id: {"follower_count": User.follower_count + delta},
    }
    for user_id in sorted(changes):
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(**changes[user_id])
            .execution_options(synchronize_session=False)
        )


def follow(follower_id: int, followed_id: int) -> bool:
    """Follow; True when this call created the follow, False when it already existed.
    Raises UserGone when either account was deleted meanwhile."""
    if follower_id == followed_id:
        raise CannotFollowSelf("You cannot follow yourself.")
    try:
        return retrying(lambda: _follow(follower_id, followed_id))
    except IntegrityError:
        db.session.rollback()
        raise UserGone("There is no user by that name.") from None


def _follow(follower_id: int, followed_id: int) -> bool:
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    # RETURNING says whether a row went in (rowcount is not reliable for INSERT everywhere).
    inserted = db.session.execute(
        dialect.insert(follow_table)
        .values(follower_id=follower_id, followed_id=followed_id)
        .on_conflict_do_nothing()
        .returning(follow_table.c.follower_id)
    ).first()
    if inserted:
        _adjust_counts(follower_id, followed_id, +1)
    db.session.commit()
    return inserted is not None


def unfollow(follower_id: int, followed_id: int) -> bool:
    """Unfollow; True when a follow was removed, False when there was none."""
    return retrying(lambda: _unfollow(follower_id, followed_id))


def _unfollow(follower_id: int, followed_id: int) -> bool:
    removed = db.session.execute(
        delete(follow_table)
        .where(
            follow_table.c.follower_id == follower_id,
            follow_table.c.followed_id == followed_id,
        )
        .returning(follow_table.c.follower_id)
    ).first()
    if removed:
        _adjust_counts(follower_id, followed_id, -1)
    db.session.commit()
    return removed is not None
