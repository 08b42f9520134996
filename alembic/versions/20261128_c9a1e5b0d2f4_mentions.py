"""Mentions: who a comment or an about-me text mentions

- `post_mention`: (comment, mentioned user), one row per account a comment mentions;
- `about_me_mention`: (owner of the about-me, mentioned user), the same for about-me texts.

Both are filled when a text is saved. Rows go with either end (ON DELETE CASCADE): a
deleted comment takes its mentions along, and a deleted account's mentions read as plain
text again. Texts saved before this revision mention nobody, as they did when saved.

Revision ID: c9a1e5b0d2f4
Revises: d3f7a2b8c6e1
Create Date: 2026-11-28 01:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c9a1e5b0d2f4"
down_revision: str | Sequence[str] | None = "d3f7a2b8c6e1"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "post_mention",
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["post.id"], name=op.f("fk_post_mention_post_id_post"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_post_mention_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("post_id", "user_id", name=op.f("pk_post_mention")),
    )
    op.create_index("ix_post_mention_user_id", "post_mention", ["user_id"], unique=False)

    op.create_table(
        "about_me_mention",
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["user.id"],
            name=op.f("fk_about_me_mention_owner_id_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_about_me_mention_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("owner_id", "user_id", name=op.f("pk_about_me_mention")),
    )
    op.create_index("ix_about_me_mention_user_id", "about_me_mention", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_about_me_mention_user_id", table_name="about_me_mention")
    op.drop_table("about_me_mention")
    op.drop_index("ix_post_mention_user_id", table_name="post_mention")
    op.drop_table("post_mention")
