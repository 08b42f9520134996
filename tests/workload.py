"""A concurrent workload against real server processes: many users posting comments and
following and unfollowing each other at once, each through its own HTTP client.

Used by the concurrency tests (a few seconds) and by `bench/concurrency.py` (longer). It
records what the server accepted, so the caller can compare it with what was stored.
"""

from __future__ import annotations

import http.client
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from tests.servers import Browserless

# What a request meets when the worker serving it is killed: no connection or a reset one
# (OSErrors, urllib's URLError among them), or a response cut off after its headers
# (http.client's IncompleteRead, which is no OSError).
DROPPED = (OSError, http.client.HTTPException)


@dataclass
class Outcome:
    statuses: Counter = field(default_factory=Counter)
    accepted_bodies: list[str] = field(default_factory=list)
    attempted_bodies: list[str] = field(default_factory=list)
    connection_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + self.connection_errors

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


def run_client(
    urls: list[str],
    username: str,
    password: str,
    others: list[str],
    deadline: float,
    outcome: Outcome,
    seed: int,
) -> None:
    rng = random.Random(seed)
    client = Browserless(urls[seed % len(urls)])
    for _ in range(5):  # a worker killed under us drops the connection: log in again
        try:
            assert client.login(username, password) == 303, f"{username} could not log in"
            client.get("/")
            break
        except DROPPED:
            with outcome.lock:
                outcome.connection_errors += 1
            time.sleep(0.2)
    sequence = 0
    while time.monotonic() < deadline:
        client.base_url = rng.choice(urls)  # several servers behave as one site
        try:
            if rng.random() < 0.7:
                sequence += 1
                body = f"load {username} #{sequence}"
                with outcome.lock:
                    outcome.attempted_bodies.append(body)
                status, _, _ = client.post_htmx("/", {"body": body})
                if status == 200:
                    with outcome.lock:
                        outcome.accepted_bodies.append(body)
            else:
                action = rng.choice(["follow", "unfollow"])
                status, _, _ = client.post_htmx(f"/user/{rng.choice(others)}/{action}")
        except DROPPED:
            with outcome.lock:
                outcome.connection_errors += 1
            continue
        with outcome.lock:
            outcome.statuses[status] += 1


def run_workload(urls: list[str], usernames: list[str], password: str, seconds: float) -> Outcome:
    """One thread per user, all at once, for `seconds`."""
    outcome = Outcome()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=run_client,
            args=(urls, name, password, [n for n in usernames if n != name], deadline, outcome, i),
        )
        for i, name in enumerate(usernames)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 120)
    return outcome


@dataclass
class Consistency:
    accepted: int
    stored: int
    accepted_missing: int
    stored_twice: int
    stored_unattempted: int
    counter_mismatches: int

    @property
    def ok(self) -> bool:
        return not (
            self.accepted_missing
            or self.stored_twice
            or self.stored_unattempted
            or self.counter_mismatches
        )


def check_consistency(app, outcome: Outcome) -> Consistency:  # noqa: ANN001 (a Flask app)
    """What the database holds against what the clients were told."""
    from sqlalchemy import select

    from webapp.conversation.models import Post
    from webapp.core.extensions import db

    with app.app_context():
        stored = Counter(db.session.scalars(select(Post.body).where(Post.body.like("load %"))))
        mismatches = counter_mismatches()
    attempted = set(outcome.attempted_bodies)
    return Consistency(
        accepted=len(outcome.accepted_bodies),
        stored=sum(stored.values()),
        accepted_missing=sum(1 for body in outcome.accepted_bodies if stored[body] != 1),
        stored_twice=sum(1 for count in stored.values() if count > 1),
        stored_unattempted=sum(1 for body in stored if body not in attempted),
        counter_mismatches=mismatches,
    )


def counter_mismatches() -> int:
    """Users and top comments whose counter columns differ from a recount of the rows they
    count (webapp/counters.py; call it in an app context)."""
    from sqlalchemy import func
    from sqlalchemy import or_
    from sqlalchemy import select

    from webapp.accounts.models import User
    from webapp.conversation.models import Post
    from webapp.core.extensions import db
    from webapp.counters import reply_recount
    from webapp.counters import user_recounts

    differs = [getattr(User, name) != recount for name, recount in user_recounts().items()]
    users = db.session.scalar(select(func.count()).select_from(User).where(or_(*differs)))
    threads = db.session.scalar(
        select(func.count())
        .select_from(Post)
        .where(Post.parent_id.is_(None), Post.reply_count != reply_recount())
    )
    return users + threads


def run_thread_client(
    url: str,
    username: str,
    password: str,
    thread: int,
    owns_thread: bool,
    find_id: Callable[[str], int | None],
    deadline: float,
    outcome: Outcome,
    seed: int,
) -> None:
    """Reply to `thread`, delete own replies and undo deletes, at random, until `deadline`;
    the thread's author also deletes and restores the thread's comment now and then."""
    rng = random.Random(seed)
    client = Browserless(url)
    assert client.login(username, password) == 303, f"{username} could not log in"
    client.get(f"/c/{thread}")
    live: list[int] = []
    deleted: list[int] = []
    thread_deleted = False
    sequence = 0
    while time.monotonic() < deadline:
        roll = rng.random()
        if owns_thread and roll < 0.08:
            action = "restore" if thread_deleted else "delete"
            status, _, _ = client.post_htmx(f"/c/{thread}/{action}")
            if status == 200:
                thread_deleted = not thread_deleted
        elif roll < 0.5 or not (live or deleted):
            sequence += 1
            body = f"load {username} reply #{sequence}"
            with outcome.lock:
                outcome.attempted_bodies.append(body)
            status, _, _ = client.post_htmx(f"/c/{thread}/replies", {"body": body})
            if status == 200:
                with outcome.lock:
                    outcome.accepted_bodies.append(body)
                reply = find_id(body)
                assert reply is not None, f"{body!r} was accepted but is not stored"
                live.append(reply)
        elif live and (roll < 0.8 or not deleted):
            reply = live.pop(rng.randrange(len(live)))
            status, _, _ = client.post_htmx(f"/c/{reply}/delete")
            (deleted if status == 200 else live).append(reply)
        else:
            reply = deleted.pop()  # the latest: Undo is offered for a few seconds only
            status, _, _ = client.post_htmx(f"/c/{reply}/restore")
            (live if status == 200 else deleted).append(reply)
        with outcome.lock:
            outcome.statuses[status] += 1


def run_thread_workload(
    url: str,
    usernames: list[str],
    password: str,
    thread: int,
    find_id: Callable[[str], int | None],
    seconds: float,
) -> Outcome:
    """One client per user on one thread, all at once; the first user wrote the thread."""
    outcome = Outcome()
    deadline = time.monotonic() + seconds
    threads = [
        threading.Thread(
            target=run_thread_client,
            args=(url, name, password, thread, i == 0, find_id, deadline, outcome, i),
        )
        for i, name in enumerate(usernames)
    ]
    for client in threads:
        client.start()
    for client in threads:
        client.join(timeout=seconds + 120)
    return outcome
