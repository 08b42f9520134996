"""Mentions in the database: resolved when a text is saved, read beside the text.

Saving a comment or an about-me stores the accounts its `@name`s named at that moment;
reading one needs no look-up per name, so a page costs the same statements however many
mentions it shows. Each page statement carries, per text, the usernames it mentions that
still exist (one string, from a subquery joined with the user table): a deleted account's
rows are gone with it, and its mentions read as plain text.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from sqlalchemy import ColumnElement
from sqlalchemy import Table
from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy.orm import aliased

from webapp.accounts.models import User
from webapp.conversation.models import post_mention
from webapp.conversation.segments import mentioned_names
from webapp.core.extensions import db
from webapp.core.sql import joined_strings
from webapp.people.models import about_me_mention

# Usernames have no spaces (identity.USERNAME_PATTERN), so a space separates them.
SEPARATOR = " "
NOBODY: frozenset[str] = frozenset()


class MentionedUser(NamedTuple):
    id: int
    username: str


def resolve(text: str) -> list[MentionedUser]:
    """The existing accounts `text` mentions.

    On PostgreSQL their rows are locked against deletion (FOR KEY SHARE, the lock a foreign
    key check takes) until the text is saved: an account deleted meanwhile either waits for
    this transaction and takes the new mention rows along, or is gone before this reads it.
    Call it before the transaction changes any other row, so every writer that locks users
    locks the mentioned ones first (as deleting an account does): no lock cycle. SQLite's
    writers take turns, so it needs (and renders) no lock.
    """
    names = mentioned_names(text)
    if not names:
        return []
    rows = db.session.execute(
        select(User.id, User.username)
        .where(User.username_canon.in_(sorted(names)))
        .order_by(User.id)
        .with_for_update(read=True, key_share=True)
    )
    return [MentionedUser(*row) for row in rows]


def save_post_mentions(post_id: int, users: Iterable[MentionedUser]) -> None:
    rows = [{"post_id": post_id, "user_id": user.id} for user in users]
    if rows:
        db.session.execute(insert(post_mention), rows)


def replace_about_me_mentions(owner_id: int, users: Iterable[MentionedUser]) -> None:
    db.session.execute(delete(about_me_mention).where(about_me_mention.c.owner_id == owner_id))
    rows = [{"owner_id": owner_id, "user_id": user.id} for user in users]
    if rows:
        db.session.execute(insert(about_me_mention), rows)


def mentions_subquery(table: Table, text_key: str, text_id: ColumnElement) -> ColumnElement:
    """A column for a page statement: the usernames the text `text_id` mentions, one
    string (NULL when none). `table` is a mention table, `text_key` its column naming the
    text (post_id, owner_id)."""
    mentioned = aliased(User)  # the page statement has its own user (an author, a card)
    return (
        select(joined_strings(mentioned.username, SEPARATOR))
        .select_from(table)
        .join(mentioned, mentioned.id == table.c.user_id)
        .where(table.c[text_key] == text_id)
        .scalar_subquery()
    )


def post_mentions_column(post_id: ColumnElement) -> ColumnElement:
    return mentions_subquery(post_mention, "post_id", post_id)


def about_me_mentions_column(owner_id: ColumnElement) -> ColumnElement:
    return mentions_subquery(about_me_mention, "owner_id", owner_id)


def usernames(column: str | None) -> frozenset[str]:
    """What the page statement's column says, as segment() takes it."""
    return frozenset(column.split(SEPARATOR)) if column else NOBODY


def usernames_of(users: Iterable[MentionedUser]) -> frozenset[str]:
    """The same, for the accounts resolve() found (a text just saved)."""
    return frozenset(user.username for user in users)
