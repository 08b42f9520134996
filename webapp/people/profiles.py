"""A user as another user sees them: the data of a profile card, in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import bindparam
from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy import update

from webapp.accounts.identity import canonical_username
from webapp.accounts.identity import could_be_username
from webapp.conversation.mentions import about_me_mentions_column
from webapp.conversation.mentions import replace_about_me_mentions
from webapp.conversation.mentions import resolve
from webapp.conversation.mentions import usernames
from webapp.conversation.segments import Segment
from webapp.conversation.segments import segment
from webapp.core.database import request_connection
from webapp.core.extensions import db
from webapp.models import User
from webapp.models import follow


class CardUser(NamedTuple):
    """What a card shows of a user: plain columns, read without building an ORM object
    (the card is the hottest request there is; an ORM entity costs more than its query)."""

    id: int
    username: str
    username_canon: str
    about_me: str
    created_at: datetime
    last_seen: datetime
    post_count: int
    follower_count: int
    following_count: int
    # The usernames of the accounts the about-me mentions that still exist.
    about_me_mentioned: frozenset[str]

    @property
    def about_me_segments(self) -> tuple[Segment, ...]:
        # Mentions only: links were asked for in comments. An address still keeps an `@`
        # inside it from being taken for a mention.
        return segment(self.about_me, self.about_me_mentioned, links=False)


USER_COLUMNS = [getattr(User, name) for name in CardUser._fields if name != "about_me_mentioned"]

# Built once: constructing a statement costs more than executing the cached SQL it compiles
# to, and it runs on every card. The names the about-me mentions come in the same row.
CARD_QUERY = select(
    *USER_COLUMNS,
    about_me_mentions_column(User.id),
    exists()
    .where(follow.c.follower_id == bindparam("viewer_id"), follow.c.followed_id == User.id)
    .label("viewer_follows"),
).where(User.username_canon == bindparam("username_canon"))


@dataclass(frozen=True)
class Card:
    user: CardUser
    viewer_follows: bool
    is_self: bool


def load_card(username: str, viewer_id: int) -> Card | None:
    """The card of `username` as the user `viewer_id` sees it, or None for an unknown name.

    One statement: the counts are columns of the user row, "do I follow them" is an EXISTS
    beside it and the names the about-me mentions a subquery, so the cost is the same for a
    new user and for the busiest one.
    """
    if not could_be_username(username):
        return None
    parameters = {"viewer_id": viewer_id, "username_canon": canonical_username(username)}
    # Core rows on the request's connection: no ORM objects to build for a card.
    row = request_connection().execute(CARD_QUERY, parameters).first()
    if row is None:
        return None
    *columns, mentioned, follows = row
    user = CardUser(*columns, usernames(mentioned))
    return Card(user=user, viewer_follows=bool(follows), is_self=user.id == viewer_id)


def update_about_me(user_id: int, about_me: str) -> None:
    """Save the about-me and the accounts it mentions now, in one transaction."""
    mentioned = resolve(about_me)  # first: it locks the mentioned accounts (see resolve)
    db.session.execute(
        update(User)
        .where(User.id == user_id)
        .values(about_me=about_me)
        .execution_options(synchronize_session=False)
    )
    replace_about_me_mentions(user_id, mentioned)
    db.session.commit()


def update_card_setting(user_id: int, show_hovercards: bool) -> None:
    db.session.execute(
        update(User)
        .where(User.id == user_id)
        .values(show_hovercards=show_hovercards)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
