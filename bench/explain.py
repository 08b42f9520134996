"""The plans of the hot queries at scale: `EXPLAIN (ANALYZE, BUFFERS)` on PostgreSQL.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m bench.explain

Builds the benchmark's dataset (bench/dataset.py) in a throwaway schema and prints, for
each statement a request runs (loading the session's user, the card of an ordinary and of
the busiest user, the feed's first page, page 2, the page 5,000,000 deep and a profile
page's comments), its plan as PostgreSQL executed it. Then it checks what the design
promises: no sequential scan anywhere, and no node reading more rows than a page needs.
"""

from __future__ import annotations

import argparse
import re
import secrets
import sys
import tempfile
from pathlib import Path

from sqlalchemy import Select
from sqlalchemy import select

from bench.common import SETTINGS
from bench.common import fresh_database
from bench.common import migrate
from bench.dataset import SCALES
from bench.dataset import build
from webapp import create_app
from webapp.accounts.sessions import LOAD_QUERY
from webapp.accounts.sessions import expiry
from webapp.accounts.sessions import token_hash
from webapp.conversation.posts import page_query
from webapp.core.extensions import db
from webapp.core.pagination import PAGE_SIZE
from webapp.core.pagination import Cursor
from webapp.core.timeutil import utcnow
from webapp.models import User
from webapp.models import UserSession
from webapp.people.profiles import CARD_QUERY

#: Rows a node may produce: a page and the row that tells whether there is a next one.
MOST_ROWS = PAGE_SIZE + 1


def plan(statement: Select, parameters: dict[str, object]) -> list[str]:
    compiled = statement.compile(dialect=db.engine.dialect)
    values = compiled.construct_params(parameters)
    rows = db.session.connection().exec_driver_sql(
        "EXPLAIN (ANALYZE, BUFFERS) " + compiled.string, values
    )
    return [row[0] for row in rows]


def problems(lines: list[str]) -> list[str]:
    found = []
    for line in lines:
        if "Seq Scan" in line:
            found.append(f"sequential scan: {line.strip()}")
        actual = re.search(r"actual time=\S+ rows=(\d+) loops=(\d+)", line)
        if actual and int(actual.group(1)) * int(actual.group(2)) > MOST_ROWS:
            found.append(f"more than {MOST_ROWS} rows: {line.strip()}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", choices=SCALES, default="10m")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_database(Path(tmp)) as (url, database):
        if database != "PostgreSQL":
            sys.exit("bench.explain reads PostgreSQL plans: set DATABASE_URL to a PostgreSQL.")
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, **SETTINGS})
        migrate(app)
        data = build(app, SCALES[args.scale])
        print(f"dataset built: {data.seeding.summary()}\n")
        failures = 0
        with app.app_context():
            ids = dict(db.session.execute(select(User.username_canon, User.id)).all())
            viewer, ordinary, busy = ids[data.viewer], ids[data.ordinary], ids[data.busy]
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
            statements = {
                "loading the session's user (every request)": (
                    LOAD_QUERY,
                    {"token_hash": token_hash(token), "now": now},
                ),
                f"card of {data.ordinary}": (
                    CARD_QUERY,
                    {"viewer_id": viewer, "username_canon": data.ordinary},
                ),
                f"card of {data.busy} (followed by every other user)": (
                    CARD_QUERY,
                    {"viewer_id": viewer, "username_canon": data.busy},
                ),
                "feed, first page": (page_query(False, False), {}),
                "feed, page 2": (
                    page_query(False, True),
                    {"timestamp": page_two.timestamp, "post_id": page_two.id},
                ),
                f"feed, {data.deep_item:,} deep": (
                    page_query(False, True),
                    {"timestamp": deep.timestamp, "post_id": deep.id},
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
            for name, (statement, parameters) in statements.items():
                lines = plan(statement, parameters)
                found = problems(lines)
                failures += len(found)
                print(f"### {name}\n\n```\n" + "\n".join(lines) + "\n```\n")
                for problem in found:
                    print(f"PROBLEM: {problem}\n")
            db.session.rollback()
            db.engine.dispose()
    print("every plan uses indexes only, with bounded rows" if not failures else "problems found")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
