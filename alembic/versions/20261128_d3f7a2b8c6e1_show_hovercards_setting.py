"""The profile-card switch: `user.show_hovercards`

Settings > Profile cards ("Show profile cards when I hover a name"). On for everyone,
existing accounts included: the column's server default fills their rows.

Revision ID: d3f7a2b8c6e1
Revises: b7e1c2d4a9f0
Create Date: 2026-11-28 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d3f7a2b8c6e1"
down_revision: str | Sequence[str] | None = "b7e1c2d4a9f0"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("show_hovercards", sa.Boolean(), server_default=sa.true(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_column("show_hovercards")
