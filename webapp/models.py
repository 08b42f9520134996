"""The data: users, their comments (posts) and who follows whom."""

from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint
from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Table
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

follow = Table(
    "follow",
    db.metadata,
    Column("follower_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("followed_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    CheckConstraint("follower_id <> followed_id", name="not_self"),
    # "Who follows X" is asked by followed_id; the primary key already serves follower_id.
    Index("ix_follow_followed_id", "followed_id"),
)


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    # As the user typed it (after NFKC), for display.
    username: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH))
    # NFKC + casefold: the identity of the name. The unique constraint is what decides
    # between two registrations racing for the same name.
    username_canon: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH), unique=True)
    # Normalised by email-validator and lower-cased, so uniqueness is case-insensitive.
    email: Mapped[str] = mapped_column(String(EMAIL_MAX_LENGTH), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    about_me: Mapped[str] = mapped_column(String(ABOUT_ME_MAX_LENGTH), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Part of the login id kept in session and remember-me cookies: bumping it on logout
    # makes every copy of an older cookie worthless.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # Counters kept in the same transaction as the rows they count (see posts and follows),
    # so a profile card costs one row read whatever the user's activity.
    post_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    follower_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    following_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    posts: Mapped[list[Post]] = relationship(
        back_populates="author", passive_deletes=True, lazy="raise_on_sql"
    )

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class Post(db.Model):
    __tablename__ = "post"
    __table_args__ = (
        # Keyset pagination of the feed and of one user's comments, newest first.
        Index("ix_post_timestamp_id", "timestamp", "id"),
        Index("ix_post_user_id_timestamp_id", "user_id", "timestamp", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(String(BODY_MAX_LENGTH))
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))

    author: Mapped[User] = relationship(back_populates="posts", lazy="raise_on_sql")

    def __repr__(self) -> str:
        return f"<Post {self.id} by {self.user_id}>"
