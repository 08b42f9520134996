"""Concurrency soak: gunicorn with N workers, M clients posting and following at once.

    .venv/bin/python -m bench.concurrency                     # SQLite, 30 s
    .venv/bin/python -m bench.concurrency --seconds 120 --kill-worker
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m bench.concurrency

It builds a fresh database (a SQLite file, or a throwaway schema in the PostgreSQL that
DATABASE_URL names) with `alembic upgrade head`, serves the app with gunicorn, runs the
workload of tests/workload.py against it, and compares what was stored with what the
clients were told. Only 127.0.0.1 is ever contacted. Exit status 1 if anything was lost.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench.common import fresh_database
from bench.common import migrate
from tests.conftest import PASSWORD
from tests.conftest import TEST_SECRET_KEY
from tests.conftest import make_app
from tests.conftest import make_user
from tests.servers import TEST_PUBLIC_URL
from tests.servers import clean_environment
from tests.servers import gunicorn
from tests.workload import check_consistency
from tests.workload import run_workload


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--kill-worker", action="store_true", help="SIGKILL one worker midway")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir, fresh_database(Path(workdir)) as (url, name):
        app = make_app(url)
        migrate(app)
        names = [f"load{n}" for n in range(args.clients)]
        for username in names:
            make_user(app, username)
        env = clean_environment(
            SECRET_KEY=TEST_SECRET_KEY,
            DATABASE_URL=url,
            PUBLIC_URL=TEST_PUBLIC_URL,
            FLASK_SESSION_COOKIE_SECURE="false",
            FLASK_RATELIMIT_POSTS_PER_USER="1000000 per minute",
        )
        with gunicorn(Path(workdir), env, workers=args.workers) as server:
            if args.kill_worker:

                def kill() -> None:
                    time.sleep(args.seconds / 2)
                    os.kill(server.pids_of_workers()[0], signal.SIGKILL)

                threading.Thread(target=kill, daemon=True).start()
            started = time.monotonic()
            outcome = run_workload([server.url], names, PASSWORD, args.seconds)
            elapsed = time.monotonic() - started
        result = check_consistency(app, outcome)

    print(f"database           {name}")
    print(f"workers, clients   {args.workers}, {args.clients}")
    killed = "  (one worker SIGKILLed midway)" if args.kill_worker else ""
    print(f"duration           {elapsed:.1f} s{killed}")
    print(f"requests           {outcome.requests}  ({outcome.requests / elapsed:.0f}/s)")
    print(f"statuses           {dict(sorted(outcome.statuses.items()))}")
    print(f"5xx                {outcome.server_errors}")
    print(f"connection errors  {outcome.connection_errors}")
    print(f"comments accepted  {result.accepted}")
    print(f"comments stored    {result.stored}")
    print(f"accepted, missing  {result.accepted_missing}")
    print(f"stored twice       {result.stored_twice}")
    print(f"counter mismatches {result.counter_mismatches}")
    ok = result.ok and outcome.server_errors == 0
    print("result             " + ("OK: nothing lost" if ok else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
