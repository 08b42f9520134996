"""The accounts' tables: users and their logged-in browsers (sessions)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import Boolean
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import true
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from webapp.core.extensions import db
from webapp.core.timeutil import UTCDateTime
from webapp.core.timeutil import utcnow

if TYPE_CHECKING:
    from webapp.conversation.models import Post

USERNAME_MAX_LENGTH = 30
EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path
ABOUT_ME_MAX_LENGTH = 280
DEVICE_MAX_LENGTH = 100


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
