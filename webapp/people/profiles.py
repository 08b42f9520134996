"""A user as another user sees them: the data of a profile card, in one query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement
from sqlalchemy import Select
from sqlalchemy import String
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import intersect
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import update

from webapp.accounts.identity import canonical_username
from webapp.accounts.identity import could_be_username
from webapp.accounts.models import User
from webapp.conversation.mentions import about_me_mentions_column
from webapp.conversation.mentions import replace_about_me_mentions
from webapp.conversation.mentions import resolve
from webapp.conversation.mentions import usernames
from webapp.conversation.segments import Segment
from webapp.conversation.segments import segment
from webapp.core.database import request_connection
from webapp.core.extensions import db
from webapp.core.sql import joined_strings
from webapp.people.models import follow


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


class Person(NamedTuple):
    """Someone named on the relationship line: enough for their avatar and profile link."""

    username: str
    username_canon: str


#: How many of "the people you follow who follow them" the card names (and shows).
NAMED = 3
#: Between the names the card query sends back in one string: usernames are letters,
#: digits and underscores, so a space is never part of one.
SEPARATOR = " "

VIEWER_ID = bindparam("viewer_id")
VIEWER_FOLLOWS = exists().where(follow.c.follower_id == VIEWER_ID, follow.c.followed_id == User.id)
FOLLOWS_VIEWER = exists().where(follow.c.follower_id == User.id, follow.c.followed_id == VIEWER_ID)

# "Followed by ..." is about two lists: the viewer's follows (`mine`) and the card user's
# followers (`theirs`). Their lengths are counter columns.
mine = follow.alias("mine")
theirs = follow.alias("theirs")
person = User.__table__.alias("person")
viewer = User.__table__.alias("viewer")
MINE_LENGTH = select(viewer.c.following_count).where(viewer.c.id == VIEWER_ID).scalar_subquery()
THEIRS_LENGTH = User.follower_count
#: "... and N others you follow" says N up to this many, then "99+" (as the "99+ new
#: comments" button does). The walk that counts stops one past it, so a viewer who follows
#: 5,000 people, most of whom follow the card user, costs what one who follows 100 does: at
#: 10 million comments, with 1,000 as the limit, the busiest user's card walked 1,002 rows
#: (1.4 ms of its statement's 1.5 ms) and its p50 was 2.17 times the same card's at 100k.
MOST_OTHERS = 99
COUNT_LIMIT = MOST_OTHERS + 3  # the two named, and one more than is ever said
#: PostgreSQL counts the people on both lists faster by intersecting them (reading both in
#: index order) than by looking each person of the shorter list up in the other, as long
#: as the longer is at most this many times as long: 0.7 ms against 1.5 ms for 1,000 and
#: 1,000 follows. SQLite looks up faster than it intersects (0.4 ms against 1.1 ms).
INTERSECT_UP_TO = 3


def in_common(walk_mine: bool) -> tuple[ColumnElement[int], ColumnElement[bool]]:
    """The people the viewer follows who follow the card user: (their id, the condition).

    Found by walking one list in index order (the viewer's follows by the primary key, or
    the card user's followers by `ix_follow_followed_id_follower_id`, both sorted by the
    person's id) and looking each person up in the other list's primary key. The cost is
    the length of the list walked, so the card query walks the shorter one.

    The look-up is a scalar subquery, not an EXISTS: PostgreSQL turns an EXISTS into a join
    and picks which list to walk itself, from estimates that cannot know how many follows
    these two users have (it walked the card user's followers where the viewer's follows
    were meant to be walked); a scalar subquery stays one look-up per row of the list
    chosen here.
    """
    if walk_mine:
        someone, walk, other = mine.c.followed_id, mine.c.follower_id == VIEWER_ID, theirs
        found = select(theirs.c.follower_id).where(
            theirs.c.follower_id == someone, theirs.c.followed_id == User.id
        )
    else:
        someone, walk, other = theirs.c.follower_id, theirs.c.followed_id == User.id, mine
        found = select(mine.c.followed_id).where(
            mine.c.follower_id == VIEWER_ID, mine.c.followed_id == someone
        )
    # At most one row: (follower, followed) is the primary key.
    return someone, and_(walk, found.correlate_except(other).scalar_subquery().is_not(None))


def count_in_common(walk_mine: bool, intersect_lists: bool) -> ColumnElement[int]:
    """How many people the viewer follows follow the card user, up to COUNT_LIMIT: the
    shorter list walked until then, or (`intersect_lists`) both lists intersected when
    their lengths are comparable and the shorter is within the limit (an intersection
    cannot stop early)."""
    someone, condition = in_common(walk_mine)
    counted = select(someone).where(condition).limit(COUNT_LIMIT).correlate(User)
    walked = select(func.count()).select_from(counted.subquery("counted")).scalar_subquery()
    if not intersect_lists:
        return walked
    both = intersect(
        select(mine.c.followed_id).where(mine.c.follower_id == VIEWER_ID),
        select(theirs.c.follower_id).where(theirs.c.followed_id == User.id).correlate(User),
    )
    intersected = select(func.count()).select_from(both.subquery("both")).scalar_subquery()
    shorter, longer = (MINE_LENGTH, THEIRS_LENGTH) if walk_mine else (THEIRS_LENGTH, MINE_LENGTH)
    comparable = and_(shorter <= COUNT_LIMIT, longer <= INTERSECT_UP_TO * shorter)
    return case((comparable, intersected), else_=walked)


def followed_by_summary(walk_mine: bool, intersect_lists: bool) -> ColumnElement[str]:
    """The first NAMED of them by id as "username canon username canon ...", then, when
    there are NAMED of them, how many there are in all: "ann ann Bo bo cy cy 1200". NULL
    for nobody.

    The walk that names them is in id order and stops at the NAMED-th match, so names are
    read for those few only. Only then are they counted: with fewer found, the first walk
    has counted them already.
    """
    someone, condition = in_common(walk_mine)
    named = (
        select(someone.label("id"))
        .where(condition)
        .order_by(someone)
        .limit(NAMED)
        .correlate(User)
        .subquery("named")
    )
    everyone = count_in_common(walk_mine, intersect_lists)
    total = case((func.count() < NAMED, ""), else_=SEPARATOR + cast(everyone, String))
    entry = person.c.username + SEPARATOR + person.c.username_canon
    return (
        select(joined_strings(entry, SEPARATOR) + total)
        .select_from(named.join(person, person.c.id == named.c.id))
        .scalar_subquery()
    )


def card_query(intersect_lists: bool) -> Select:
    # Nothing is walked for a card that shows no "Followed by" line (one's own, or one that
    # says "Follows you"), and otherwise the shorter list is.
    followed_by_line = case(
        (or_(User.id == VIEWER_ID, FOLLOWS_VIEWER), None),
        (MINE_LENGTH <= THEIRS_LENGTH, followed_by_summary(True, intersect_lists)),
        else_=followed_by_summary(False, intersect_lists),
    )
    return select(
        *USER_COLUMNS,
        about_me_mentions_column(User.id),
        VIEWER_FOLLOWS.label("viewer_follows"),
        FOLLOWS_VIEWER.label("follows_viewer"),
        followed_by_line.label("followed_by"),
    ).where(User.username_canon == bindparam("username_canon"))


# Built once: constructing a statement costs more than executing the cached SQL it compiles
# to, and it runs on every card. The names the about-me mentions come in the same row.
# PostgreSQL gets its own (see INTERSECT_UP_TO).
CARD_QUERY = card_query(intersect_lists=False)
CARD_QUERIES = {"postgresql": card_query(intersect_lists=True)}


@dataclass(frozen=True)
class Card:
    user: CardUser
    viewer_follows: bool
    is_self: bool
    follows_viewer: bool
    #: The people the viewer follows who follow this user: how many, and the first few
    #: (0 and none when the card shows no "Followed by" line).
    in_common_count: int
    in_common: tuple[Person, ...]

    @property
    def relationship(self) -> str | None:
        """The card's relationship line, or None for none. One line at most (Mastodon's
        rule): how they relate to the viewer, else who the viewer knows among their
        followers."""
        if self.is_self:
            return None
        if self.follows_viewer:
            return "You follow each other" if self.viewer_follows else "Follows you"
        return followed_by([p.username for p in self.in_common], self.in_common_count)


def followed_by(names: list[str], count: int) -> str | None:
    """The "Followed by" line: every name when all fit ("Followed by A", "... A and B",
    "... A, B and C"), else two and the number of the rest ("... A, B and N others you
    follow", "... 99+ others ..." past MOST_OTHERS); None for nobody."""
    if not names:
        return None
    if count > len(names):
        others = count - len(names[:2])
        # At the limit the count stopped: there may be more.
        number = f"{MOST_OTHERS:,}+" if others > MOST_OTHERS else str(others)
        names = [*names[:2], f"{number} other{'s' if others != 1 else ''} you follow"]
    if len(names) == 1:
        return f"Followed by {names[0]}"
    return f"Followed by {', '.join(names[:-1])} and {names[-1]}"


def load_card(username: str, viewer_id: int) -> Card | None:
    """The card of `username` as the user `viewer_id` sees it, or None for an unknown name.

    One statement: the counts are columns of the user row, "do I follow them" and "do they
    follow me" are EXISTS beside it, the names the about-me mentions a subquery, and "who
    that I follow follows them" walks the shorter of the two lists of follows (see
    `in_common`), so its cost is bounded by the viewer's follows or the user's followers,
    whichever is fewer (and by COUNT_LIMIT people found).
    """
    if not could_be_username(username):
        return None
    parameters = {"viewer_id": viewer_id, "username_canon": canonical_username(username)}
    # Core rows on the request's connection: no ORM objects to build for a card.
    connection = request_connection()
    query = CARD_QUERIES.get(connection.dialect.name, CARD_QUERY)
    row = connection.execute(query, parameters).first()
    if row is None:
        return None
    *columns, mentioned, viewer_follows, follows_viewer, summary = row
    user = CardUser(*columns, usernames(mentioned))
    fields = summary.split(SEPARATOR) if summary else []
    # Names come in pairs; an odd field out at the end is the count (see followed_by_summary).
    in_common_count = int(fields.pop()) if len(fields) % 2 else len(fields) // 2
    # Which people are named is decided in SQL (the lowest ids); the order they are named
    # in is decided here, rather than trusting an aggregate to keep its input's order.
    people = sorted(
        map(Person._make, zip(fields[::2], fields[1::2], strict=True)),
        key=lambda p: p.username_canon,
    )
    return Card(
        user=user,
        viewer_follows=bool(viewer_follows),
        is_self=user.id == viewer_id,
        follows_viewer=bool(follows_viewer),
        in_common_count=in_common_count,
        in_common=tuple(people),
    )


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
