"""The people's tables: who follows whom, and whom an about-me text mentions."""

from __future__ import annotations

from sqlalchemy import CheckConstraint
from sqlalchemy import Column
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Table

from webapp.core.extensions import db

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

# An about-me's mentions, resolved when it is saved, as a comment's are (see post_mention in
# webapp/conversation/models.py): the rows go with either account.
about_me_mention = Table(
    "about_me_mention",
    db.metadata,
    # The about-me's owner: a user has one about-me, so the owner names the text.
    Column("owner_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_about_me_mention_user_id", "user_id"),
)
