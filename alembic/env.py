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
        with engine.connect() as connection:
            context.configure(
                connection=connection,
                target_metadata=db.metadata,
                # SQLite alters tables by copying them; batch mode does that for us.
                render_as_batch=engine.dialect.name == "sqlite",
                compare_type=True,
                compare_server_default=True,
            )
            with context.begin_transaction():
                context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("Offline (--sql) migrations are not supported: run against a database.")
run_migrations_online()
