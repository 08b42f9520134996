"""Shared by the benchmarks: a throwaway database, migrated the way production is."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import Flask
from sqlalchemy import create_engine
from sqlalchemy import text

from tests.servers import TEST_PUBLIC_URL
from webapp.core.config import ROOT
from webapp.core.config import normalise_database_url

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


def migrate(app: Flask) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes.update(app=app, configure_logger=False)
    command.upgrade(config, "head")
