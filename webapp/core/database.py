"""Engine set-up per database, and recognising a database that was never migrated."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask import current_app
from flask import g
from flask import has_request_context
from flask import request
from sqlalchemy import event
from sqlalchemy import inspect
from sqlalchemy.engine import Connection
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from webapp.core.extensions import db

SQLITE_BUSY_TIMEOUT_MS = 10_000
MIGRATE_HINT = "The database is not migrated: run `alembic upgrade head`."
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: The execution option that makes a connection run each statement on its own (see
#: `request_connection`). SQLite's is ours, read by `configure_sqlite`'s BEGIN hook:
#: SQLAlchemy's own AUTOCOMMIT level would, when the connection is returned, switch the
#: driver back to its implicit transactions, which that hook replaces.
READ_OPTIONS_KEY = "hoverfeed_read_options"
AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}
SQLITE_AUTOCOMMIT = {"hoverfeed_autocommit": True}


def configure_engine(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine)
            app.extensions[READ_OPTIONS_KEY] = (engine, SQLITE_AUTOCOMMIT)
        else:
            app.extensions[READ_OPTIONS_KEY] = (engine, AUTOCOMMIT)
    app.teardown_appcontext(close_read_connection)


def request_connection() -> Connection:
    """The connection for this request's Core statements.

    Requests that change nothing (GET, HEAD, OPTIONS) read on a connection of their own,
    taken from the pool at the first statement and given back when the request ends, and
    run each statement without a transaction around it. On PostgreSQL that saves the BEGIN
    and ROLLBACK round trips of a read: three round trips become one. Nothing is lost: at
    READ COMMITTED, PostgreSQL's level here, each statement already sees its own snapshot,
    and these requests write nothing through it (the last-seen time, their one write, takes
    a transaction of its own). It also skips the ORM session's per-request transaction
    bookkeeping, which the loader and the card do not need. Measured with bench.profile:
    docs/performance.md, "Where the time goes".

    Other methods use the ORM session's connection, so the current user is read inside the
    transaction the view commits (on SQLite, after BEGIN IMMEDIATE has taken the write
    lock), as before.
    """
    if not has_request_context() or request.method not in SAFE_METHODS:
        return db.session.connection()
    connection = g.get("read_connection")
    if connection is None:
        engine, options = current_app.extensions[READ_OPTIONS_KEY]
        connection = g.read_connection = engine.connect().execution_options(**options)
    return connection


def forget_inherited_connections(app: Flask) -> None:
    """In a process forked from the one that built `app` (gunicorn's preloading master):
    start with an empty pool, leaving the parent's connections to the parent (SQLAlchemy's
    advice for forking, "Using Connection Pools with Multiprocessing")."""
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def close_read_connection(_error: BaseException | None = None) -> None:
    connection = g.pop("read_connection", None)
    if connection is not None:
        connection.close()


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
        if connection.get_execution_options().get("hoverfeed_autocommit"):
            return  # each statement is its own transaction (`request_connection`)
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
