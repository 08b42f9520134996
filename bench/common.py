"""Shared by the benchmarks: a throwaway database, migrated the way production is."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy import text

from tests.servers import TEST_PUBLIC_URL
from tests.servers import clean_environment
from webapp import create_app
from webapp.core.config import ROOT
from webapp.core.config import normalise_database_url
from webapp.core.extensions import db

if TYPE_CHECKING:  # bench.dataset imports this module
    from bench.dataset import Dataset
    from bench.dataset import Scale

SECRET_KEY = "benchmark-secret-key-" + "b" * 32
#: What a production app (here: in this process, and under gunicorn) needs to start.
SETTINGS = {"SECRET_KEY": SECRET_KEY, "PUBLIC_URL": TEST_PUBLIC_URL}


@contextmanager
def fresh_database(workdir: Path) -> Iterator[tuple[str, str]]:
    """(URL, name): a SQLite file in `workdir`, or a new schema in the PostgreSQL that
    DATABASE_URL names (dropped afterwards)."""
    base = os.environ.get("DATABASE_URL")
    if not base:
        yield f"sqlite:///{workdir / 'bench.sqlite3'}", "SQLite"
        return
    base = normalise_database_url(base)
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        separator = "&" if "?" in base else "?"
        yield f"{base}{separator}options=-csearch_path%3D{schema}", "PostgreSQL"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def seeded_server_environment(url: str, scale: Scale) -> tuple[dict[str, str], Dataset]:
    """Migrate the database at `url`, fill it with the dataset at `scale`, and return the
    environment gunicorn serves it with (the production settings) and the dataset."""
    from bench.dataset import build  # bench.dataset imports this module

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, **SETTINGS})
    migrate(app)
    data = build(app, scale)
    with app.app_context():
        db.engine.dispose()  # the servers make their own connections
    env = clean_environment(
        DATABASE_URL=url,
        **SETTINGS,
        FLASK_SESSION_COOKIE_SECURE="false",
        # Hovering this hard is the benchmark, not abuse: the limit is counted on every
        # card as in production, it is only set too high to refuse.
        FLASK_RATELIMIT_CARDS_PER_USER="1000000000 per minute",
    )
    return env, data


def migrate(app: Flask) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes.update(app=app, configure_logger=False)
    command.upgrade(config, "head")
