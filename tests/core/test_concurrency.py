"""Concurrency without loss, and faults: gunicorn with 4 workers, 16 clients at once.

The short form of `bench/concurrency.py`: a few seconds on the test database (SQLite in
WAL mode with immediate write transactions, or PostgreSQL), then the stored rows are
compared with what the clients were told.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from flask import Flask

from tests.conftest import PASSWORD
from tests.conftest import make_user
from tests.servers import Browserless
from tests.servers import gunicorn
from tests.servers import site_environment
from tests.workload import check_consistency
from tests.workload import run_workload

CLIENTS = 16
WORKERS = 4
NO_THROTTLE = {
    "FLASK_RATELIMIT_POSTS_PER_USER": "100000 per minute",
    "FLASK_RATELIMIT_LOGIN_PER_ADDRESS": "100000 per minute",
}


def server_env(database_url: str) -> dict[str, str]:
    return site_environment(database_url, **NO_THROTTLE)


def make_users(app: Flask) -> list[str]:
    names = [f"load{n}" for n in range(CLIENTS)]
    for name in names:
        make_user(app, name)
    return names


def test_concurrent_posts_and_follows_lose_nothing(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    names = make_users(app)
    with gunicorn(tmp_path, server_env(database_url), workers=WORKERS) as server:
        outcome = run_workload([server.url], names, PASSWORD, seconds=4)
    result = check_consistency(app, outcome)
    print(f"\n{outcome.requests} requests, statuses {dict(outcome.statuses)}, {result}")
    assert outcome.server_errors == 0, outcome.statuses
    assert outcome.connection_errors == 0
    # The load really ran (a loaded CI machine serves fewer; any real run is far above).
    assert outcome.requests > 40
    assert result.accepted > 20
    assert result.ok, result
    assert result.stored == result.accepted


def test_killed_worker_leaves_no_partial_rows_and_service_keeps_answering(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    names = make_users(app)
    with gunicorn(tmp_path, server_env(database_url), workers=WORKERS) as server:
        import threading

        def kill_a_worker() -> None:
            time.sleep(1.5)
            os.kill(server.pids_of_workers()[0], signal.SIGKILL)

        killer = threading.Thread(target=kill_a_worker)
        killer.start()
        outcome = run_workload([server.url], names, PASSWORD, seconds=4)
        killer.join()
        # Still answering after the load, with a replacement worker.
        probe = Browserless(server.url)
        assert probe.login("load0", PASSWORD) == 303
        assert probe.get("/")[0] == 200
        assert len(server.pids_of_workers()) == WORKERS
    result = check_consistency(app, outcome)
    print(f"\n{outcome.requests} requests, statuses {dict(outcome.statuses)}, {result}")
    assert outcome.server_errors == 0, outcome.statuses
    # Requests on the killed worker may have been cut off; whatever was accepted is
    # stored exactly once, nothing is stored twice or half (counters match the rows).
    assert result.ok, result


def test_mutual_follows_at_the_same_moment_do_not_deadlock(app: Flask) -> None:
    """A follows B while B follows A, over and over: each transaction updates both users'
    counters, and in opposite orders they would deadlock on PostgreSQL."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.conftest import HTMX
    from tests.conftest import AuthActions
    from tests.conftest import csrf_token
    from tests.workload import Outcome

    pairs = [(f"ping{n}", f"pong{n}") for n in range(4)]
    for left, right in pairs:
        make_user(app, left)
        make_user(app, right)

    def hammer(me: str, partner: str) -> list[int]:
        client = app.test_client()
        AuthActions(client).login(me)
        headers = {**HTMX, "X-CSRFToken": csrf_token(client, "/")}
        statuses = []
        for n in range(25):
            action = "follow" if n % 2 == 0 else "unfollow"
            statuses.append(client.post(f"/user/{partner}/{action}", headers=headers).status_code)
        return statuses

    jobs = [(a, b) for a, b in pairs] + [(b, a) for a, b in pairs]
    with ThreadPoolExecutor(len(jobs)) as pool:
        results = list(pool.map(lambda job: hammer(*job), jobs))
    assert all(status == 200 for statuses in results for status in statuses)
    assert check_consistency(app, Outcome()).counter_mismatches == 0


def test_sixteen_clients_replying_deleting_and_undoing_on_one_thread_keep_counters_exact(
    app: Flask, database_url: str, tmp_path: Path
) -> None:
    """16 users at once on one thread: replies, deletes of their own replies, Undo, and the
    thread's author deleting and restoring the comment itself (a reply meanwhile is a 404).
    Afterwards every counter equals a recount, every accepted reply is stored once, and
    nothing answered 5xx."""
    from sqlalchemy import select

    from tests.conftest import add_posts
    from tests.workload import counter_mismatches
    from tests.workload import run_thread_workload
    from webapp.conversation.models import Post
    from webapp.core.extensions import db

    names = make_users(app)
    [thread] = add_posts(app, user_id_of(app, names[0]), ["A thread for everyone"])

    def find_id(body: str) -> int | None:
        with app.app_context():
            return db.session.scalar(select(Post.id).where(Post.body == body))

    with gunicorn(tmp_path, server_env(database_url), workers=WORKERS) as server:
        outcome = run_thread_workload(server.url, names, PASSWORD, thread, find_id, seconds=4)
    result = check_consistency(app, outcome)
    print(f"\n{outcome.requests} requests, statuses {dict(outcome.statuses)}, {result}")
    assert outcome.server_errors == 0, outcome.statuses
    assert outcome.connection_errors == 0
    assert outcome.requests > 40
    assert sum(count for status, count in outcome.statuses.items() if status == 200) > 20
    with app.app_context():
        assert counter_mismatches() == 0
        replies = db.session.scalar(select(Post.reply_count).where(Post.id == thread))
        live = db.session.scalars(
            select(Post.id).where(Post.parent_id == thread, Post.deleted_at.is_(None))
        ).all()
    assert replies == len(live) > 0
    assert result.stored == result.accepted and result.ok, result


def user_id_of(app: Flask, username: str) -> int:
    from sqlalchemy import select

    from webapp.accounts.models import User
    from webapp.core.extensions import db

    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))
