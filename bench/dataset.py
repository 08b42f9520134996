"""The benchmark's dataset, at two scales, with extremes.

    .venv/bin/python -m bench.dataset --scale 10m     # only seed (and time) a fresh database
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \
        .venv/bin/python -m bench.dataset --scale 10m

`100k` (the default, and the dataset behind the figures in docs/performance.md, row for row
as before): 1,000 users and 100,000 comments with random times over the last 90 days.

- `busy` wrote 50,000 of the comments and is followed by every other user but `loner`;
- `loner` has no comments, follows nobody and has no followers;
- everyone else shares the other 50,000 comments and follows a few people (about 5).

`10m`: 10,000 users and 10,000,000 comments over the last 365 days, each comment a little
later than the one before (as rows arrive in a live database), with jitter.

- `busy` wrote half of the comments (5,000,000, interleaved with everyone else's) and is
  followed by all 9,999 other users: so here `loner` follows `busy` (and nobody else; it
  still has no comments and no followers);
- `user0001`, the benchmark's viewer, follows 5,000 users (`busy` among them), so the pages
  it is logged in to see are those of the heaviest follower;
- everyone else shares the other half of the comments and follows a few people (about 5).

At both scales the deep cursor is half the comments deep (50,000 and 5,000,000).

Replies, added after those comments (which all stay top comments, row for row as before):
the newest 1,000 top comments and the 1,000 from the deep cursor on get 0 to 8 replies each
(so the feed's first page, page 2 and the deep page all show latest replies and "Show all
N replies"), by random users, later than their comment; the newest top comment is the
thread of the thread-page benchmark, with 60 replies (more than a page of replies).

At both scales, after those users and touching none of their rows, come the people of the
card's "Followed by A, B and N others you follow": `avid` follows 1,000 users and `popular`
has 1,000 followers, 300 of them among the people `avid` follows (chosen at random, with a
random generator of their own, so every other row is as it was). They are 1,700 users
`member0000` to `member1699`, with no comments, following nobody else. `avid` and `popular`
neither follow each other nor comment.

Loading, the way PostgreSQL's "Populating a Database" advises: one transaction; the comment
table's secondary indexes and foreign key are dropped while it fills and put back afterwards
verbatim from the catalog (one sorted index build and one validating join instead of a
B-tree insert and a trigger per row: 3 times as fast at 10m); rows go in with binary COPY on
PostgreSQL and executemany in large batches on SQLite (where the foreign key stays, checked
per row: SQLite can neither drop one nor switch the checks off inside a transaction); the
counter columns are computed once at the end with one UPDATE ... FROM (SELECT ... GROUP BY)
each; then PostgreSQL gets ANALYZE. All users share one precomputed password hash (hashing
is deliberately slow).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from itertools import chain
from itertools import islice
from pathlib import Path
from typing import Any
from typing import Literal

import click
from flask import Flask
from psycopg import sql
from sqlalchemy import Column
from sqlalchemy import Table
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.orm import InstrumentedAttribute

from bench.common import SETTINGS
from bench.common import fresh_database
from bench.common import migrate
from webapp import create_app
from webapp.accounts.identity import username_skeleton
from webapp.accounts.models import User
from webapp.accounts.passwords import hash_password
from webapp.conversation.models import Post
from webapp.core.extensions import db
from webapp.core.pagination import Cursor
from webapp.core.timeutil import UTCDateTime
from webapp.core.timeutil import utcnow
from webapp.demo import comment
from webapp.people.models import follow

PASSWORD = "benchmark-password"
#: Rows handed to the database (and to the progress bar) at a time.
CHUNK = 50_000
#: Distinct comment bodies at 10m: drawing one per row would cost more than writing it.
BODIES = 4_096
POST_COLUMNS = ("body", "timestamp", "user_id")
REPLY_COLUMNS = ("body", "timestamp", "user_id", "parent_id")
#: Top comments given replies, from the newest and from the deep cursor on (each).
THREADS_PER_PLACE = 1_000
#: Replies per such comment, drawn from these (several above the two a feed item shows).
REPLIES_EACH = (0, 0, 1, 2, 2, 3, 5, 8)
#: Replies of the thread-page benchmark's thread.
LONG_THREAD = 60
FOLLOW_COLUMNS = ("follower_id", "followed_id")

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Scale:
    users: int
    comments: int
    #: "random": uniform over the history, as the 100k dataset always had; "in order":
    #: increasing with the row id, as in a live database.
    times: Literal["random", "in order"]
    history: timedelta
    #: How many users the viewer follows; None: a few, like everyone else.
    viewer_follows: int | None
    #: `busy` is followed by everybody else, `loner` included (else: all but `loner`).
    loner_follows_busy: bool

    @property
    def busy_comments(self) -> int:
        return self.comments // 2

    @property
    def deep_item(self) -> int:
        return self.comments // 2


SCALES = {
    "100k": Scale(
        users=1_000,
        comments=100_000,
        times="random",
        history=timedelta(days=90),
        viewer_follows=None,
        loner_follows_busy=False,
    ),
    "10m": Scale(
        users=10_000,
        comments=10_000_000,
        times="in order",
        history=timedelta(days=365),
        viewer_follows=5_000,
        loner_follows_busy=True,
    ),
}
VIEWER = "user0001"
#: The card with a long "Followed by" line, and who looks at it (see the module's notes).
IN_COMMON_VIEWER = "avid"
IN_COMMON_CARD = "popular"
IN_COMMON_FOLLOWS = 1_000  # followed by the viewer, and followers of the card user, each
IN_COMMON = 300  # of them both
MEMBERS = [f"member{n:04d}" for n in range(2 * IN_COMMON_FOLLOWS - IN_COMMON)]


@dataclass
class Seeding:
    """How long seeding took, phase by phase (seconds), for the report."""

    comments: int
    backend: str
    phases: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return sum(self.phases.values())

    def summary(self) -> str:
        parts = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.phases.items())
        return (
            f"{self.comments:,} comments in {self.seconds:.1f} s, "
            f"{self.comments / self.seconds:,.0f} comments/s overall ({self.backend}: {parts})"
        )


@dataclass
class Dataset:
    viewer: str  # who is logged in during the benchmark
    ordinary: str
    busy: str
    loner: str
    in_common_viewer: str  # follows 1,000 users...
    in_common_card: str  # ...300 of whom follow this one
    page_two_cursor: str
    deep_cursor: str
    deep_item: int  # how many comments deep the deep cursor is
    newest_cursor: str  # the newest top comment's: nothing is newer
    long_thread: int  # a top comment with LONG_THREAD replies
    seeding: Seeding


@contextmanager
def phase(seeding: Seeding, name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    seeding.phases[name] = time.perf_counter() - started


def chunks(rows: Iterable[Row], size: int = CHUNK) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


def random_comments(
    scale: Scale, rng: random.Random, now: datetime, busy: int, others: Sequence[int]
) -> Iterator[Row]:
    """The 100k comments exactly as before: the same random calls in the same order."""
    span = scale.history.total_seconds()
    authors = [busy] * scale.busy_comments + [
        rng.choice(others) for _ in range(scale.comments - scale.busy_comments)
    ]
    for author in authors:
        yield comment(rng), now - timedelta(seconds=rng.uniform(0, span)), author


def comments_in_order(
    scale: Scale, rng: random.Random, now: datetime, busy: int, others: Sequence[int]
) -> Iterator[Row]:
    """Fast enough for 10m (about 1 million rows/s here, ahead of the database): bodies
    cycle through a precomputed set, and row i's time falls at random within its own slot
    of history / comments, so times increase with i and nothing needs sorting."""
    bodies = [comment(rng) for _ in range(BODIES)]
    start = now - scale.history
    slot_us = scale.history / timedelta(microseconds=1) / scale.comments
    rnd, count = rng.random, len(others)
    busy_first = False
    for i in range(scale.comments):
        # Of each pair of consecutive comments, `busy` wrote one, at random the first or the
        # second: exactly half are busy's, spread evenly over the whole history.
        if not i & 1:
            busy_first = rnd() < 0.5
        # Indexing by random() rather than rng.choice(): twice as fast, bias negligible.
        author = busy if busy_first == (not i & 1) else others[int(rnd() * count)]
        # timedelta(0, 0, float microseconds), positionally: measured 2.4 times as fast as
        # `slot * float` and 3.5 times as fast as the keyword form.
        yield bodies[i % BODIES], start + timedelta(0, 0, (i + rnd()) * slot_us), author


def follow_pairs(
    scale: Scale, rng: random.Random, ids: dict[str, int], others: list[int]
) -> set[tuple[int, int]]:
    """(follower, followed): everybody follows `busy`, and a few others each."""
    busy = ids["busy"]
    fans = others + [ids["loner"]] if scale.loner_follows_busy else others
    pairs = {(user, busy) for user in fans}
    for user in others:
        for followed in rng.sample(others, 5):
            if followed != user:
                pairs.add((user, followed))
    if scale.viewer_follows is not None:
        viewer = ids[VIEWER]
        candidates = [user for user in others if user != viewer]
        # `busy` is already followed: the other (viewer_follows - 1) come from the rest.
        followed = {followed for follower, followed in pairs if follower == viewer} - {busy}
        extra = rng.sample(
            [user for user in candidates if user not in followed],
            scale.viewer_follows - 1 - len(followed),
        )
        pairs.update((viewer, user) for user in extra)
    return pairs


def in_common_pairs(seed: int, ids: dict[str, int]) -> list[tuple[int, int]]:
    """(follower, followed) for `avid`, `popular` and the members between them."""
    members = [ids[name] for name in MEMBERS]
    # Spread over the members (not the first 300), as people the viewer follows would be:
    # the card's walk stops at the third one it finds, so where they sit matters.
    random.Random(f"{seed}-in-common").shuffle(members)
    only_followed = IN_COMMON_FOLLOWS - IN_COMMON
    followed, fans = members[:IN_COMMON_FOLLOWS], members[only_followed:]
    viewer, card = ids[IN_COMMON_VIEWER], ids[IN_COMMON_CARD]
    return [(viewer, user) for user in followed] + [(user, card) for user in fans]


def dbapi_connection() -> Any:
    """The driver's own connection under the session, in the session's transaction."""
    return db.session.connection().connection.driver_connection


@contextmanager
def bare_table(table: Table) -> Iterator[Callable[[], None]]:
    """`table` without its secondary indexes (and, on PostgreSQL, its foreign keys) while it
    fills. Yields the function that puts them back, from the definitions the catalog held,
    so they are exactly what the migrations made (the foreign key is validated as it comes
    back). Everything happens in the session's transaction: a failure undoes all of it."""
    connection = dbapi_connection()
    statements: list[str] = []
    if db.engine.dialect.name == "postgresql":
        name = sql.Identifier(table.name).as_string(connection)
        indexes = connection.execute(
            """
            SELECT i.relname, pg_get_indexdef(i.oid)
            FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
            WHERE x.indrelid = %s::regclass
              AND NOT EXISTS (  -- those behind a constraint (the primary key) stay
                SELECT FROM pg_constraint c
                WHERE c.conrelid = x.indrelid AND c.conindid = x.indexrelid)
            """,
            [name],
        ).fetchall()
        keys = connection.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            [name],
        ).fetchall()
        for index, _ in indexes:
            connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(index)))
        for key, _ in keys:
            connection.execute(
                sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                    sql.Identifier(table.name), sql.Identifier(key)
                )
            )
        statements = [definition for _, definition in indexes] + [
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ")
            .format(sql.Identifier(table.name), sql.Identifier(key))
            .as_string(connection)
            + definition
            for key, definition in keys
        ]
        # Sorting 10 million index entries in memory instead of in temporary files.
        connection.execute("SET LOCAL maintenance_work_mem = '512MB'")
    else:
        indexes = connection.execute(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",  # NULL: a constraint's
            [table.name],
        ).fetchall()
        for index, _ in indexes:
            connection.execute(f'DROP INDEX "{index}"')
        statements = [definition for _, definition in indexes]

    def restore() -> None:
        for statement in statements:
            connection.execute(statement)

    yield restore


def load(
    table: Table,
    columns: Sequence[str],
    rows: Iterable[Row],
    progress: Callable[[int], None] = lambda done: None,
) -> int:
    """Write `rows` (Python values for `columns`) into `table`; returns how many."""
    connection = dbapi_connection()
    written = 0
    if db.engine.dialect.name == "postgresql":
        name = sql.Identifier(table.name)
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY)").format(
            name, sql.SQL(", ").join(map(sql.Identifier, columns))
        )
        # Binary COPY needs each column's exact type: taken from the catalog, not guessed.
        types = dict(
            connection.execute(
                "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass",
                [name.as_string(connection)],
            ).fetchall()
        )
        with connection.cursor() as cursor, cursor.copy(statement) as copy:
            copy.set_types([types[column] for column in columns])
            write_row = copy.write_row
            for chunk in chunks(rows):
                for row in chunk:
                    write_row(row)
                written += len(chunk)
                progress(len(chunk))
        return written
    # SQLite: the values as SQLAlchemy binds them (datetimes become the text it stores), so
    # the rows are indistinguishable from ones the app wrote.
    dialect = db.engine.dialect
    exact = [
        table.c[column].type.dialect_impl(dialect).bind_processor(dialect) for column in columns
    ]
    fast = [
        utc_text if isinstance(table.c[column].type, UTCDateTime) else processor
        for column, processor in zip(columns, exact, strict=True)
    ]
    converted = [(index, convert) for index, convert in enumerate(fast) if convert]

    def bound(row: Row, converters: Sequence[tuple[int, Callable[[Any], Any]]]) -> list[Any]:
        values = list(row)
        for index, convert in converters:
            values[index] = convert(values[index])
        return values

    statement = (
        f'INSERT INTO "{table.name}" ({", ".join(columns)}) '
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    checked = [(index, convert) for index, convert in enumerate(exact) if convert]
    for chunk in chunks(rows):
        # The fast conversion must give SQLAlchemy's text: checked on a row of every batch.
        if bound(chunk[0], converted) != bound(chunk[0], checked):
            raise AssertionError(f"{chunk[0]!r} would not be stored as SQLAlchemy does")
        # One statement reused for every row of a 50,000-row batch: measured 4 % slower
        # than 300-row VALUES lists, and simpler.
        connection.executemany(statement, [bound(row, converted) for row in chunk])
        written += len(chunk)
        progress(len(chunk))
    return written


def utc_text(value: datetime) -> str:
    """A UTC datetime as SQLAlchemy stores it on SQLite ('2026-11-27 12:00:00.000000'):
    measured 2.4 times as fast as its bind processor, which was half the Python time."""
    return value.isoformat(" ", "microseconds")[:26]


def replies(
    rng: random.Random, now: datetime, parents: Sequence[tuple[int, datetime]], users: list[int]
) -> Iterator[Row]:
    """Replies to `parents` ((id, timestamp), the first being the long thread), each later
    than its comment and not in the future."""
    bodies = [comment(rng) for _ in range(64)]
    for position, (parent, posted) in enumerate(parents):
        count = LONG_THREAD if position == 0 else rng.choice(REPLIES_EACH)
        span = max((now - posted).total_seconds(), 1.0)
        times = sorted(rng.uniform(0, span) for _ in range(count))
        for offset in times:
            author = users[int(rng.random() * len(users))]
            yield rng.choice(bodies), posted + timedelta(seconds=offset), author, parent


def top_comments(offset: int, limit: int) -> list[tuple[int, datetime]]:
    """(id, timestamp) of top comments in feed order (newest first), from `offset` on."""
    rows = db.session.execute(
        select(Post.id, Post.timestamp)
        .where(Post.parent_id.is_(None))
        .order_by(Post.timestamp.desc(), Post.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return [(post_id, timestamp) for post_id, timestamp in rows]


def count_replies() -> None:
    """Every top comment's reply_count from the rows, as count_into does for users."""
    counts = (
        select(Post.parent_id.label("parent_id"), func.count().label("n"))
        .where(Post.parent_id.is_not(None))
        .group_by(Post.parent_id)
        .subquery()
    )
    db.session.execute(
        update(Post).where(Post.id == counts.c.parent_id).values(reply_count=counts.c.n)
    )


def count_into(
    counter: InstrumentedAttribute[int], key: InstrumentedAttribute[int] | Column[int]
) -> None:
    """Set a counter from the rows: one UPDATE ... FROM (SELECT key, count(*) GROUP BY key).
    Users without rows keep the 0 they were inserted with."""
    counts = select(key.label("user_id"), func.count().label("n")).group_by(key).subquery()
    db.session.execute(
        update(User).where(User.id == counts.c.user_id).values({counter.key: counts.c.n})
    )


def build(app: Flask, scale: Scale | None = None, seed: int = 7) -> Dataset:
    scale = scale or SCALES["100k"]
    rng = random.Random(seed)
    now = utcnow()
    backend = {"postgresql": "PostgreSQL, binary COPY", "sqlite": "SQLite, executemany"}
    with app.app_context():
        seeding = Seeding(scale.comments, backend.get(db.engine.dialect.name, "?"))
        with phase(seeding, "users"):
            password_hash = hash_password(PASSWORD)
            names = ["busy", "loner"] + [f"user{n:04d}" for n in range(scale.users - 2)]
            # After the others: their ids stay what they were.
            in_common_names = [IN_COMMON_VIEWER, IN_COMMON_CARD, *MEMBERS]
            db.session.execute(
                insert(User),
                [
                    {
                        "username": name,
                        "username_canon": name,
                        "username_skeleton": username_skeleton(name),
                        "email": f"{name}@bench.invalid",
                        "password_hash": password_hash,
                        "about_me": f"I am {name}, here for the benchmark.",
                        "created_at": now - timedelta(days=400),
                        "last_seen": now - timedelta(hours=1),
                    }
                    for name in names + in_common_names
                ],
            )
            ids = dict(db.session.execute(select(User.username, User.id)).all())
            others = [ids[name] for name in names[2:]]
        comments = random_comments if scale.times == "random" else comments_in_order
        rows = comments(scale, rng, now, ids["busy"], others)
        with bare_table(Post.__table__) as restore:
            with (
                phase(seeding, "comments"),
                click.progressbar(length=scale.comments, label="Writing comments") as bar,
            ):
                load(Post.__table__, POST_COLUMNS, rows, bar.update)
            postgresql = db.engine.dialect.name == "postgresql"
            with phase(seeding, "indexes and foreign key" if postgresql else "indexes"):
                restore()
        with phase(seeding, "replies"):
            parents = top_comments(0, THREADS_PER_PLACE) + top_comments(
                scale.deep_item - 1, THREADS_PER_PLACE
            )
            load(Post.__table__, REPLY_COLUMNS, replies(rng, now, parents, others))
            count_replies()
        with phase(seeding, "follows"):
            pairs = follow_pairs(scale, rng, ids, others)
            load(follow, FOLLOW_COLUMNS, chain(pairs, in_common_pairs(seed, ids)))
        with phase(seeding, "counters"):
            count_into(User.post_count, Post.user_id)
            count_into(User.follower_count, follow.c.followed_id)
            count_into(User.following_count, follow.c.follower_id)
        with phase(seeding, "commit"):
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with phase(seeding, "ANALYZE"):
                # Without statistics the planner guesses (and autovacuum may be off, as on
                # this project's machine); only our tables, not the whole database.
                db.session.execute(text('ANALYZE "user", post, follow'))
                db.session.commit()

        def cursor_at(position: int) -> str:
            [(post_id, timestamp)] = top_comments(position - 1, 1)
            return Cursor(timestamp, post_id).encode()

        with phase(seeding, "cursors"):
            page_two, deep = cursor_at(20), cursor_at(scale.deep_item)
            newest = cursor_at(1)
        return Dataset(
            viewer=VIEWER,
            ordinary="user0500",
            busy="busy",
            loner="loner",
            in_common_viewer=IN_COMMON_VIEWER,
            in_common_card=IN_COMMON_CARD,
            page_two_cursor=page_two,
            deep_cursor=deep,
            deep_item=scale.deep_item,
            newest_cursor=newest,
            long_thread=parents[0][0],
            seeding=seeding,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description="Seed a fresh database with the dataset.")
    parser.add_argument("--scale", choices=SCALES, default="100k")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as workdir,
        fresh_database(Path(workdir)) as (url, database),
    ):
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, **SETTINGS})
        migrate(app)
        data = build(app, SCALES[args.scale], args.seed)
        print(f"{database}, scale {args.scale}: {data.seeding.summary()}")
        with app.app_context():
            db.engine.dispose()  # close the pool's connections before the schema goes
    return 0


if __name__ == "__main__":
    sys.exit(main())
