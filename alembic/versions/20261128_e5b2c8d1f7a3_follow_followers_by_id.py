"""Followers of a user in id order, from the index alone

The card's "Followed by A, B and N others you follow" walks the card user's followers when
they are fewer than the viewer's follows. `ix_follow_followed_id` held only `followed_id`,
so each follower's id was one more read of the table (SQLite's rowid table, PostgreSQL's
heap), and PostgreSQL returned them in heap order. `(followed_id, follower_id)` gives the
ids from the index, sorted, and still serves every "who follows X" look-up the old index
did, which it replaces.

Revision ID: e5b2c8d1f7a3
Revises: c9a1e5b0d2f4
Create Date: 2026-11-28 01:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "e5b2c8d1f7a3"
down_revision: str | Sequence[str] | None = "c9a1e5b0d2f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_follow_followed_id_follower_id", "follow", ["followed_id", "follower_id"])
    op.drop_index("ix_follow_followed_id", table_name="follow")


def downgrade() -> None:
    op.create_index("ix_follow_followed_id", "follow", ["followed_id"])
    op.drop_index("ix_follow_followed_id_follower_id", table_name="follow")
