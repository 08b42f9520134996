"""Server-side sessions, e-mail confirmation and look-alike usernames

- `user_session`: one row per logged-in browser (replaces `user.session_version`, so
  cookies made before this revision authenticate nobody: everyone logs in again once);
- `user.email_confirmed_at`: existing addresses start unconfirmed;
- `user.username_skeleton`: the name with look-alike characters folded together, unique.
  Existing accounts whose names already look alike keep working: the first (lowest id) gets
  the skeleton, the others keep NULL, and the upgrade prints them so an operator can act.

Revision ID: b7e1c2d4a9f0
Revises: 4952169cbc9c
Create Date: 2026-11-27 21:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e1c2d4a9f0"
down_revision: str | Sequence[str] | None = "4952169cbc9c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of the rule in webapp/accounts/identity.py as it is at this revision: a migration
# must not change when the app's code does later.
CONFUSABLES = str.maketrans({"i": "l", "1": "l", "|": "l", "0": "o"})


def skeleton(username_canon: str) -> str:
    return username_canon.translate(CONFUSABLES)


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("device", sa.String(length=100), nullable=False),
        sa.Column("remembered", sa.Boolean(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_user_session_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_user_session_token_hash")),
    )
    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.create_index("ix_user_session_expires_at", ["expires_at"], unique=False)
        batch_op.create_index("ix_user_session_user_id", ["user_id"], unique=False)

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("username_skeleton", sa.String(length=30), nullable=True))
        batch_op.add_column(
            sa.Column("email_confirmed_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.drop_column("session_version")

    fill_skeletons()

    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_user_username_skeleton"), ["username_skeleton"]
        )


def fill_skeletons() -> None:
    """Give every account its skeleton; report the accounts that collide instead of failing."""
    connection = op.get_bind()
    user = sa.table(
        "user",
        sa.column("id", sa.Integer),
        sa.column("username", sa.String),
        sa.column("username_canon", sa.String),
        sa.column("username_skeleton", sa.String),
    )
    owners: dict[str, str] = {}
    collisions: list[tuple[str, str]] = []
    rows = connection.execute(
        sa.select(user.c.id, user.c.username, user.c.username_canon).order_by(user.c.id)
    )
    updates = []
    for user_id, username, username_canon in rows:
        key = skeleton(username_canon)
        if key in owners:
            collisions.append((username, owners[key]))
            continue
        owners[key] = username
        updates.append({"user_id": user_id, "skeleton": key})
    if updates:
        connection.execute(
            sa.update(user)
            .where(user.c.id == sa.bindparam("user_id"))
            .values(username_skeleton=sa.bindparam("skeleton")),
            updates,
        )
    for username, owner in collisions:
        print(
            f"username {username!r} looks like {owner!r}: both keep working, but "
            f"{username!r} has no skeleton (consider renaming it)."
        )


def downgrade() -> None:
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_user_username_skeleton"), type_="unique")
        batch_op.add_column(
            sa.Column("session_version", sa.Integer(), server_default="1", nullable=False)
        )
        batch_op.drop_column("email_confirmed_at")
        batch_op.drop_column("username_skeleton")

    with op.batch_alter_table("user_session", schema=None) as batch_op:
        batch_op.drop_index("ix_user_session_user_id")
        batch_op.drop_index("ix_user_session_expires_at")

    op.drop_table("user_session")
