"""Alembic environment: the URL and the metadata come from the app, never from alembic.ini.

Tests hand in their own app through `config.attributes["app"]`; otherwise `create_app()`
builds one from the environment (DATABASE_URL, .env).
"""

from __future__ import annotations

import os
import secrets
from logging.config import fileConfig

from alembic import context
from flask import Flask
from sqlalchemy.engine import Connection

from webapp import create_app
from webapp.core.extensions import db

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def get_app() -> Flask:
    app = config.attributes.get("app")
    if app is None:
        # Migrating signs nothing: a throwaway key keeps the app's key check satisfied.
        app = create_app({"SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_hex(32)})
    return app


def run_migrations_online() -> None:
    app = get_app()
    with app.app_context():
        engine = db.engine
        sqlite = engine.dialect.name == "sqlite"
        with engine.connect() as connection:
            if sqlite:
                # Batch mode copies a table, drops the original and renames the copy. With
                # foreign keys enforced (as the app's connections have them), that DROP
                # cascades: every post and follow of every user would be deleted. The pragma
                # is ignored inside a transaction, so it goes to the driver before one begins.
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            try:
                context.configure(
                    connection=connection,
                    target_metadata=db.metadata,
                    # SQLite alters tables by copying them; batch mode does that for us.
                    render_as_batch=sqlite,
                    compare_type=True,
                    compare_server_default=True,
                )
                with context.begin_transaction():
                    context.run_migrations()
                    if sqlite:
                        check_sqlite_foreign_keys(connection)
            finally:
                if sqlite:
                    # Never hand the app a pooled connection without foreign keys.
                    connection.invalidate()


def check_sqlite_foreign_keys(connection: Connection) -> None:
    """With enforcement off, nothing stopped a migration from leaving dangling references:
    refuse to commit one that did."""
    problems = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if problems:
        raise RuntimeError(f"The migration leaves broken foreign keys: {problems[:10]}")


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported: run against a database.")
run_migrations_online()
