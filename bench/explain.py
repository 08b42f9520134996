"""The plans of the hot queries at scale: `EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL,
`EXPLAIN QUERY PLAN` on SQLite.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m bench.explain
    .venv/bin/python -m bench.explain --scale 100k       # SQLite

Builds the benchmark's dataset (bench/dataset.py) in a throwaway schema and prints, for
each statement a request runs (loading the session's user, the card of an ordinary and of
the busiest user, the card with a long "Followed by" line and the busiest user's card as
its viewer sees it, the feed's first page, page 2, the page 5,000,000 deep, the latest
replies of the first and the deep page's comments, a thread page's replies, the
new-comments check with nothing new (alone, and with the newest comment read again) and at
its cap, and a profile page's comments), its plan as the database executed it (PostgreSQL)
or would (SQLite). Then it checks what the design promises: no table read from end to end,
and (PostgreSQL, which counts them) no node reading more rows than a page needs, or for a
card than the shorter of the viewer's follows and the card user's followers (the "Followed
by" line walks that one; both, where PostgreSQL intersects them), or for the latest
replies than the page's threads hold.
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
import tempfile
from pathlib import Path

from sqlalchemy import Select
from sqlalchemy import event
from sqlalchemy import select

from bench.common import SETTINGS
from bench.common import fresh_database
from bench.common import migrate
from bench.dataset import LONG_THREAD
from bench.dataset import SCALES
from bench.dataset import build
from bench.dataset import top_comments
from webapp import create_app
from webapp.accounts.models import User
from webapp.accounts.models import UserSession
from webapp.accounts.sessions import LOAD_QUERY
from webapp.accounts.sessions import expiry
from webapp.accounts.sessions import token_hash
from webapp.conversation import news
from webapp.conversation.news import NEWS_CAP
from webapp.conversation.posts import REPLIES_PAGE_SIZE
from webapp.conversation.posts import latest_replies_query
from webapp.conversation.posts import page_query
from webapp.conversation.posts import replies_query
from webapp.core.extensions import db
from webapp.core.pagination import PAGE_SIZE
from webapp.core.pagination import Cursor
from webapp.core.timeutil import utcnow
from webapp.people.profiles import CARD_QUERIES
from webapp.people.profiles import CARD_QUERY
from webapp.people.profiles import COUNT_LIMIT
from webapp.people.profiles import INTERSECT_UP_TO

#: Rows a node may produce: a page and the row that tells whether there is a next one.
MOST_ROWS = PAGE_SIZE + 1


def plan(statement: Select, parameters: dict[str, object]) -> list[str]:
    connection = db.session.connection()
    # The SQL exactly as the app sends it (values some constructs render only at execution
    # included), caught on its way to the driver.
    sent: list[tuple[str, object]] = []

    def catch(conn, cursor, sql, values, context, executemany) -> None:
        sent.append((sql, values))

    event.listen(db.engine, "before_cursor_execute", catch)
    try:
        connection.execute(statement, parameters).all()
    finally:
        event.remove(db.engine, "before_cursor_execute", catch)
    sql, values = sent[-1]
    if db.engine.dialect.name == "postgresql":
        rows = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, values)
        return [row[0] for row in rows]
    rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, values)
    depth = {0: -1}  # SQLite's plan is a tree of (id, parent, detail): indent it
    lines = []
    for node, parent, _, detail in rows:
        depth[node] = depth.get(parent, 0) + 1
        lines.append("  " * depth[node] + detail)
    return lines


def problems(lines: list[str], most_rows: int = MOST_ROWS) -> list[str]:
    found = []
    # SQLite names the subqueries it runs as co-routines; scanning their few rows is fine.
    subqueries = set(re.findall(r"(?:CO-ROUTINE|MATERIALIZE) (\w+)", "\n".join(lines)))
    for line in lines:
        scan = re.fullmatch(r"\s*SCAN (\w+)(.*)", line)  # SQLite's "SCAN t [USING ...]"
        if "Seq Scan" in line or (
            scan and scan.group(1) not in subqueries and "USING" not in scan.group(2)
        ):
            found.append(f"table scan: {line.strip()}")
        if "ix_post_deleted_at" in line:  # the purge's index, of deleted rows only
            found.append(f"a page's statement uses the purge's index: {line.strip()}")
        actual = re.search(r"actual time=\S+ rows=(\d+) loops=(\d+)", line)
        if actual and int(actual.group(1)) * int(actual.group(2)) > most_rows:
            found.append(f"more than {most_rows} rows: {line.strip()}")
    return found


def card(viewer: int, username: str) -> tuple[Select, dict[str, object], int]:
    """The card statement, and the most rows a node of it may read: the shorter of the
    viewer's follows and the user's followers, or both when PostgreSQL intersects them."""
    following = db.session.scalar(select(User.following_count).where(User.id == viewer))
    followers = db.session.scalar(
        select(User.follower_count).where(User.username_canon == username)
    )
    shorter, longer = sorted((following, followers))
    postgresql = db.engine.dialect.name == "postgresql"
    both = postgresql and shorter <= COUNT_LIMIT and longer <= INTERSECT_UP_TO * shorter
    most_rows = max(MOST_ROWS, shorter + longer if both else shorter)
    query = CARD_QUERIES.get(db.engine.dialect.name, CARD_QUERY)
    return query, {"viewer_id": viewer, "username_canon": username}, most_rows


def latest_replies_of(cursor: Cursor | None) -> tuple[Select, dict[str, object], int]:
    """The feed page's second statement (the latest replies of its comments), and the most
    rows a node may read: the live replies of that page's threads, and no other."""
    parameters: dict[str, object] = {}
    if cursor is not None:
        parameters = {"timestamp": cursor.timestamp, "post_id": cursor.id}
    page = db.session.execute(page_query(False, cursor is not None), parameters).all()
    top_ids = [row.id for row in page[:PAGE_SIZE]]
    replies = sum(row.reply_count for row in page[:PAGE_SIZE])
    return latest_replies_query(), {"top_ids": top_ids}, max(MOST_ROWS, replies)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="10m")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_database(Path(tmp)) as (url, database):
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, **SETTINGS})
        migrate(app)
        data = build(app, SCALES[args.scale])
        print(f"dataset built: {data.seeding.summary()}\n")
        failures = 0
        with app.app_context():
            ids = dict(db.session.execute(select(User.username_canon, User.id)).all())
            viewer, ordinary, busy = ids[data.viewer], ids[data.ordinary], ids[data.busy]
            avid = ids[data.in_common_viewer]
            token, now = secrets.token_urlsafe(32), utcnow()
            db.session.add(
                UserSession(
                    token_hash=token_hash(token),
                    user_id=viewer,
                    created_at=now,
                    last_seen_at=now,
                    device="bench",
                    remembered=True,
                    expires_at=expiry(now, now, True),
                )
            )
            db.session.commit()
            page_two = Cursor.decode(data.page_two_cursor)
            deep = Cursor.decode(data.deep_cursor)
            newest = Cursor.decode(data.newest_cursor)
            [(behind_id, behind_time)] = top_comments(150, 1)
            behind = Cursor(behind_time, behind_id)
            statements = {
                "loading the session's user (every request)": (
                    LOAD_QUERY,
                    {"token_hash": token_hash(token), "now": now},
                ),
                f"card of {data.ordinary}": card(viewer, data.ordinary),
                f"card of {data.busy} (followed by every other user)": card(viewer, data.busy),
                f"card of {data.in_common_card} seen by {data.in_common_viewer} (1,000 follows; "
                "1,000 followers, 300 of them in common)": card(avid, data.in_common_card),
                f"card of {data.busy} seen by {data.in_common_viewer} (1,000 follows, none of "
                "them in common)": card(avid, data.busy),
                "feed, first page": (page_query(False, False), {}),
                "feed, page 2": (
                    page_query(False, True),
                    {"timestamp": page_two.timestamp, "post_id": page_two.id},
                ),
                f"feed, {data.deep_item:,} deep": (
                    page_query(False, True),
                    {"timestamp": deep.timestamp, "post_id": deep.id},
                ),
                "feed, first page: the latest replies of its comments": latest_replies_of(None),
                f"feed, {data.deep_item:,} deep: the latest replies of its comments": (
                    latest_replies_of(deep)
                ),
                f"thread page ({LONG_THREAD} replies): its replies": (
                    replies_query(False, REPLIES_PAGE_SIZE),
                    {"top_id": data.long_thread},
                    REPLIES_PAGE_SIZE + 1,
                ),
                "new-comments check (nothing new)": (
                    news.count_query(),
                    {"viewer_id": viewer, "timestamp": newest.timestamp, "post_id": newest.id},
                ),
                # Once a second per app process: the newest top comment, read again with
                # the count (webapp/conversation/newest.py).
                "new-comments check, reading the newest comment again (nothing new)": (
                    news.count_and_newest_query(),
                    {"viewer_id": viewer, "timestamp": newest.timestamp, "post_id": newest.id},
                ),
                # A reader who left a feed open while 150 comments came in.
                "new-comments check (150 new: counted up to the cap)": (
                    news.count_query(),
                    {"viewer_id": viewer, "timestamp": behind.timestamp, "post_id": behind.id},
                    NEWS_CAP,
                ),
                f"profile page of {data.busy}: its comments": (
                    page_query(True, False),
                    {"user_id": busy},
                ),
                f"profile page of {data.ordinary}: its comments": (
                    page_query(True, False),
                    {"user_id": ordinary},
                ),
            }
            for name, (statement, parameters, *bound) in statements.items():
                lines = plan(statement, parameters)
                found = problems(lines, *bound)
                failures += len(found)
                print(f"### {name}\n\n```\n" + "\n".join(lines) + "\n```\n")
                for problem in found:
                    print(f"PROBLEM: {problem}\n")
            db.session.rollback()
            db.engine.dispose()
    done = "every plan uses indexes only" + (
        ", with bounded rows" if database == "PostgreSQL" else ""
    )
    print(done if not failures else "problems found")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
