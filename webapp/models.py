"""The data: users, their comments (posts), who follows whom and who mentions whom."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean
from sqlalchemy import CheckConstraint
from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Table
from sqlalchemy import text
from sqlalchemy import true
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from webapp.core.extensions import db
from webapp.core.timeutil import UTCDateTime
from webapp.core.timeutil import utcnow

USERNAME_MAX_LENGTH = 30
EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path
BODY_MAX_LENGTH = 280
ABOUT_ME_MAX_LENGTH = 280
DEVICE_MAX_LENGTH = 100

follow = Table(
    "follow",
    db.metadata,
    Column("follower_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("followed_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    CheckConstraint("follower_id <> followed_id", name="not_self"),
    # "Who follows X" is asked by followed_id; the primary key already serves follower_id.
    # With follower_id in it too, the followers come from the index alone, in id order
    # (the card's "Followed by ..." walks them).
    Index("ix_follow_followed_id_follower_id", "followed_id", "follower_id"),
)


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # As the user typed it (after NFKC), for display.
    username: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH))
    # NFKC + casefold: the identity of the name, used to find the account.
    username_canon: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH), unique=True)
    # The canonical name with look-alike characters folded together (l, i and 1; o and 0):
    # its unique constraint is what decides between two registrations racing for names a
    # reader could not tell apart. NULL only for accounts that already collided when the
    # rule came in (the migration reports them); they keep working.
    username_skeleton: Mapped[str | None] = mapped_column(String(USERNAME_MAX_LENGTH), unique=True)
    # Normalised by email-validator and lower-cased, so uniqueness is case-insensitive.
    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), unique=True)
    # When the owner followed the confirmation link; None while unconfirmed.
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    password_hash: Mapped[str] = mapped_column(String(255))
    about_me: Mapped[str] = mapped_column(String(ABOUT_ME_MAX_LENGTH), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Counters kept in the same transaction as the rows they count (see posts and follows),
    # so a profile card costs one row read whatever the user's activity.
    post_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    follower_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    following_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Settings > Profile cards. Loaded with the session's user on every request (the name
    # links of a page depend on it), so reading it costs no statement.
    show_hovercards: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    posts: Mapped[list[Post]] = relationship(
        back_populates="author", passive_deletes=True, lazy="raise_on_sql"
    )

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    def __repr__(self) -> str:
        return f"<User {self.username}>"


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
about_me_mention = Table(
    "about_me_mention",
    db.metadata,
    # The about-me's owner: a user has one about-me, so the owner names the text.
    Column("owner_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_about_me_mention_user_id", "user_id"),
)


class UserSession(db.Model):
    """One logged-in browser. The cookie holds a random 256-bit id; only its SHA-256 is
    stored, so a copy of this table logs nobody in."""

    __tablename__ = "user_session"
    __table_args__ = (
        # "My sessions" and "log out everywhere" ask by user; purging asks by expiry.
        Index("ix_user_session_user_id", "user_id"),
        Index("ix_user_session_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A short description for the sessions list, such as "Chromium on Linux".
    device: Mapped[str] = mapped_column(String(DEVICE_MAX_LENGTH), default="")
    remembered: Mapped[bool] = mapped_column(Boolean, default=False)
    # Kept up to date with last_seen_at, so loading and purging compare one column.
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of {self.user_id}>"
