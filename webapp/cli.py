"""`flask` commands and the shell context."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

import click
from flask import Flask
from flask.cli import with_appcontext

from webapp import demo
from webapp.accounts import sessions
from webapp.accounts.models import User
from webapp.conversation import edits
from webapp.conversation.models import Post
from webapp.core.database import MIGRATE_HINT
from webapp.core.database import schema_is_missing
from webapp.core.extensions import db


def init_app(app: Flask) -> None:
    app.shell_context_processor(shell_context)
    app.cli.add_command(seed_demo)
    app.cli.add_command(purge_sessions)
    app.cli.add_command(purge_comments)


def shell_context() -> dict[str, Any]:
    return {"db": db, "User": User, "Post": Post}


@click.command("seed-demo")
@with_appcontext
@click.option("--users", default=60, show_default=True, type=click.IntRange(2, 1_000_000))
@click.option("--comments", default=600, show_default=True, type=click.IntRange(0, 10_000_000))
@click.option("--seed", "seed_value", default=2026, show_default=True, help="Random seed.")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has users.")
def seed_demo(users: int, comments: int, seed_value: int, if_empty: bool) -> None:
    """Fill the database with demo users, comments and follows."""
    if schema_is_missing():
        raise click.ClickException(MIGRATE_HINT)
    if demo.has_users():
        if if_empty:
            click.echo("The database has users already: no demo data added.")
            if demo.demo_user_exists():
                click.echo(demo.login_hint())
            return
        raise click.ClickException("The database has users already; seed an empty one.")
    started = time.perf_counter()
    with click.progressbar(length=users + comments, label="Adding demo data") as bar:
        summary = demo.seed(users, comments, seed_value=seed_value, progress=bar.update)
    seconds = time.perf_counter() - started
    click.echo(
        f"Added {summary.users} users, {summary.comments} comments, {summary.replies} replies "
        f"and {summary.follows} follows in {seconds:.1f} s "
        f"({summary.comments / max(seconds, 1e-9):,.0f} comments/s)."
    )
    click.echo(demo.login_hint())


@click.command("purge-sessions")
@with_appcontext
def purge_sessions() -> None:
    """Delete expired login sessions (run it daily, e.g. from cron or a systemd timer)."""
    if schema_is_missing():
        raise click.ClickException(MIGRATE_HINT)
    deleted = sessions.purge_expired()
    db.session.commit()
    click.echo(f"Deleted {deleted} expired session{'s' if deleted != 1 else ''}.")


@click.command("purge-comments")
@with_appcontext
@click.option(
    "--older-than-hours",
    default=24.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Remove comments deleted at least this long ago.",
)
def purge_comments(older_than_hours: float) -> None:
    """Remove comments deleted long ago for good (run it daily, like purge-sessions).

    A deleted comment is only marked until then (Undo clears the mark). Replies go first;
    a deleted top comment stays while it still has live replies (shown as a placeholder).
    """
    if schema_is_missing():
        raise click.ClickException(MIGRATE_HINT)
    removed = edits.purge_deleted(timedelta(hours=older_than_hours))
    click.echo(f"Removed {removed} deleted comment{'s' if removed != 1 else ''}.")
