"""A user as another user sees them: the data of a profile card, in one query."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy import update

from webapp.extensions import db
from webapp.identity import canonical_username
from webapp.identity import could_be_username
from webapp.models import User
from webapp.models import follow


@dataclass(frozen=True)
class Card:
    user: User
    viewer_follows: bool
    is_self: bool


def load_card(username: str, viewer: User) -> Card | None:
    """The card of `username` as `viewer` sees it, or None for an unknown name.

    One statement: the counts are columns of the user row and "do I follow them" is an
    EXISTS beside it, so the cost is the same for a new user and for the busiest one.
    """
    if not could_be_username(username):
        return None
    viewer_follows = (
        exists()
        .where(follow.c.follower_id == viewer.id, follow.c.followed_id == User.id)
        .label("viewer_follows")
    )
    row = db.session.execute(
        select(User, viewer_follows).where(User.username_canon == canonical_username(username))
    ).first()
    if row is None:
        return None
    user, follows = row
    return Card(user=user, viewer_follows=bool(follows), is_self=user.id == viewer.id)


def update_about_me(user: User, about_me: str) -> None:
    db.session.execute(
        update(User)
        .where(User.id == user.id)
        .values(about_me=about_me)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
