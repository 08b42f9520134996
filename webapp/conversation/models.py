"""The conversation's tables: comments (posts) and whom they mention."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint
from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from webapp.core.extensions import db
from webapp.core.timeutil import UTCDateTime
from webapp.core.timeutil import utcnow

if TYPE_CHECKING:
    from webapp.accounts.models import User

BODY_MAX_LENGTH = 280


class Post(db.Model):
    __tablename__ = "post"
    __table_args__ = (
        # Keyset pagination, newest first: the feed and the "new comments" check walk the
        # top comments (partial: replies are not in it, however many there are; with
        # parent_id IS NULL as a column of a wider index, PostgreSQL could not use that
        # index's order, IS NULL being no equality), a profile its user's comments.
        Index(
            "ix_post_top_timestamp_id",
            "timestamp",
            "id",
            sqlite_where=text("parent_id IS NULL"),
            postgresql_where=text("parent_id IS NULL"),
        ),
        Index("ix_post_user_id_timestamp_id", "user_id", "timestamp", "id"),
        # A thread's replies in order, and a feed page's latest replies per comment.
        Index("ix_post_parent_id_timestamp_id", "parent_id", "timestamp", "id"),
        # purge-comments finds rows deleted long enough ago. Partial: only deleted rows are
        # in it, so it stays small, and no planner (SQLite has no statistics) takes it for
        # the `deleted_at IS NULL` every page asks, which nearly every row matches.
        Index(
            "ix_post_deleted_at",
            "deleted_at",
            sqlite_where=text("deleted_at IS NOT NULL"),
            postgresql_where=text("deleted_at IS NOT NULL"),
        ),
        CheckConstraint("reply_count >= 0", name="reply_count_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(BODY_MAX_LENGTH))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    # The top comment a reply belongs to; None for a top comment. One level of nesting: a
    # reply to a reply names the same top comment (and starts with @name of its author).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("post.id", ondelete="CASCADE"))
    # Live (not deleted) replies of a top comment, kept in the same transaction as the
    # rows, so "Show all N replies" costs no COUNT.
    reply_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set by an edit (allowed for 15 minutes after posting); shown as "edited".
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by a delete, cleared by Undo; `purge-comments` removes rows deleted long ago.
    # Deleted rows are left out everywhere, except a top comment that still has replies,
    # which stays as a "deleted" placeholder holding its thread.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    author: Mapped[User] = relationship(back_populates="posts", lazy="raise_on_sql")

    def __repr__(self) -> str:
        return f"<Post {self.id} by {self.user_id}>"


# Mentions are resolved when a text is saved: `@name` is a mention only if that account
# existed then. The rows go with the mentioned account (ON DELETE CASCADE), so a deleted
# account's mentions read as plain text again; pages read the names beside the texts.
post_mention = Table(
    "post_mention",
    db.metadata,
    Column("post_id", ForeignKey("post.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    # Deleting an account finds its mention rows by user_id.
    Index("ix_post_mention_user_id", "user_id"),
)
