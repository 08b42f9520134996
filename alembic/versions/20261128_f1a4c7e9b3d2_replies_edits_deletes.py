"""Replies, edits and deletes with Undo

A comment can answer a top comment (`parent_id`, one level of nesting), a top comment counts
its live replies (`reply_count`, kept in the same transaction as the rows), an edit is
marked (`edited_at`) and a delete is a mark (`deleted_at`) that Undo clears and
`purge-comments` later turns into a real delete. A partial index of the top comments by
`(timestamp, id)` serves the feed and the "new comments" check (it replaces the index of
every comment), `(parent_id, timestamp, id)` each thread's replies, and a partial index
holds the deleted rows for the purge.

Revision ID: f1a4c7e9b3d2
Revises: e5b2c8d1f7a3
Create Date: 2026-11-28 03:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "f1a4c7e9b3d2"
down_revision: str | Sequence[str] | None = "e5b2c8d1f7a3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column("reply_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("edited_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            "fk_post_parent_id_post", "post", ["parent_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_check_constraint("reply_count_not_negative", "reply_count >= 0")
        batch_op.create_index(
            "ix_post_parent_id_timestamp_id", ["parent_id", "timestamp", "id"], unique=False
        )
        # The feed's pages are top comments: their own index, without the replies (see the
        # model for why not the wider one above); it replaces the index of every comment.
        batch_op.create_index(
            "ix_post_top_timestamp_id",
            ["timestamp", "id"],
            unique=False,
            sqlite_where=sa.text("parent_id IS NULL"),
            postgresql_where=sa.text("parent_id IS NULL"),
        )
        batch_op.drop_index("ix_post_timestamp_id")
        # Only deleted rows: see the model (a full index would be chosen by SQLite for
        # `deleted_at IS NULL`, which nearly every row matches).
        batch_op.create_index(
            "ix_post_deleted_at",
            ["deleted_at"],
            unique=False,
            sqlite_where=sa.text("deleted_at IS NOT NULL"),
            postgresql_where=sa.text("deleted_at IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_index("ix_post_deleted_at")
        batch_op.create_index("ix_post_timestamp_id", ["timestamp", "id"], unique=False)
        batch_op.drop_index("ix_post_top_timestamp_id")
        batch_op.drop_index("ix_post_parent_id_timestamp_id")
        batch_op.drop_constraint(op.f("ck_post_reply_count_not_negative"), type_="check")
        batch_op.drop_constraint(op.f("fk_post_parent_id_post"), type_="foreignkey")
        batch_op.drop_column("deleted_at")
        batch_op.drop_column("edited_at")
        batch_op.drop_column("reply_count")
        batch_op.drop_column("parent_id")
