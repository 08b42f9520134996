"""The benchmark's dataset: 1,000 users and 100,000 comments, with extremes.

- `busy` wrote 50,000 of the comments and is followed by every other user but `loner`;
- `loner` has no comments, follows nobody and has no followers;
- everyone else shares the other 50,000 comments and follows a few people.

All users share one precomputed password hash (hashing 1,000 passwords would take longer
than everything else). Rows go in with bulk INSERTs; the counters are computed once at the
end from the rows (webapp.demo.recount), as the demo-data command does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from sqlalchemy import insert
from sqlalchemy import select

from webapp.accounts.identity import username_skeleton
from webapp.accounts.passwords import hash_password
from webapp.core.extensions import db
from webapp.core.pagination import Cursor
from webapp.core.timeutil import utcnow
from webapp.demo import batches
from webapp.demo import comment
from webapp.demo import recount
from webapp.models import Post
from webapp.models import User
from webapp.models import follow

PASSWORD = "benchmark-password"
USERS = 1_000
COMMENTS = 100_000
BUSY_COMMENTS = 50_000
DEEP_ITEM = 50_000


@dataclass
class Dataset:
    viewer: str  # who is logged in during the benchmark
    ordinary: str
    busy: str
    loner: str
    page_two_cursor: str
    deep_cursor: str


def build(app: Flask, seed: int = 7) -> Dataset:
    rng = random.Random(seed)
    now = utcnow()
    password_hash = hash_password(PASSWORD)
    names = ["busy", "loner"] + [f"user{n:04d}" for n in range(USERS - 2)]
    with app.app_context():
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
                for name in names
            ],
        )
        ids = dict(db.session.execute(select(User.username, User.id)).tuples().all())
        others = [ids[name] for name in names[2:]]
        span = timedelta(days=90).total_seconds()
        authors = [ids["busy"]] * BUSY_COMMENTS + [
            rng.choice(others) for _ in range(COMMENTS - BUSY_COMMENTS)
        ]
        rows = (
            {
                "body": comment(rng),
                "user_id": author,
                "timestamp": now - timedelta(seconds=rng.uniform(0, span)),
            }
            for author in authors
        )
        for batch in batches(rows):
            db.session.execute(insert(Post), batch)
        follows = {(user, ids["busy"]) for user in others}
        for user in others:
            for followed in rng.sample(others, 5):
                if followed != user:
                    follows.add((user, followed))
        for batch in batches({"follower_id": a, "followed_id": b} for a, b in follows):
            db.session.execute(insert(follow), batch)
        recount()
        db.session.commit()

        def cursor_at(position: int) -> str:
            timestamp, post_id = db.session.execute(
                select(Post.timestamp, Post.id)
                .order_by(Post.timestamp.desc(), Post.id.desc())
                .offset(position - 1)
                .limit(1)
            ).one()
            return Cursor(timestamp, post_id).encode()

        return Dataset(
            viewer="user0001",
            ordinary="user0500",
            busy="busy",
            loner="loner",
            page_two_cursor=cursor_at(20),
            deep_cursor=cursor_at(DEEP_ITEM),
        )
