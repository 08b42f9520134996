"""Engine set-up per database, and recognising a database that was never migrated."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask import has_request_context
from flask import request
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from webapp.core.extensions import db

SQLITE_BUSY_TIMEOUT_MS = 10_000
MIGRATE_HINT = "The database is not migrated: run `alembic upgrade head`."
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def configure_engine(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine)


def configure_sqlite(engine: Engine) -> None:
    """WAL, a busy timeout and `BEGIN IMMEDIATE` for writes, so workers share the file.

    pysqlite opens transactions lazily and only before writes, which lets two requests read
    and then both try to upgrade to writers: one of them fails with "database is locked"
    whatever the timeout. We take transaction control from the driver instead: requests that
    change state (POST and friends) take the write lock up front and wait their turn; reads
    use a plain deferred transaction, which never blocks in WAL mode.
    """

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable in WAL mode, and much faster
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        writes = has_request_context() and request.method not in SAFE_METHODS
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def schema_is_missing() -> bool:
    """True when the app's tables are not there: the database was never migrated."""
    try:
        with db.engine.connect() as connection:
            tables = set(inspect(connection).get_table_names())
    except SQLAlchemyError:
        return False  # unreachable rather than un-migrated: a different problem
    return not set(db.metadata.tables) <= tables
