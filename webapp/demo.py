"""Demo data: varied users, about-me texts, comments over recent weeks, and follows.

Rows go in with bulk INSERTs (one statement per batch, not one ORM object per row) and the
counter columns are computed once at the end from the rows themselves, so the result is
consistent by construction and 100,000 comments take seconds.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from webapp.accounts.identity import username_skeleton
from webapp.accounts.passwords import hash_password
from webapp.core.extensions import db
from webapp.core.timeutil import utcnow
from webapp.models import Post
from webapp.models import User
from webapp.models import follow

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "hoverfeed-demo"
BATCH_SIZE = 5_000

FIRST = [
    "ada",
    "alan",
    "grace",
    "linus",
    "margaret",
    "ken",
    "barbara",
    "dennis",
    "frances",
    "edsger",
    "radia",
    "guido",
    "katherine",
    "tim",
    "hedy",
    "john",
    "annie",
    "niklaus",
    "sophie",
    "donald",
    "joan",
    "bjarne",
    "mary",
    "yukihiro",
    "lynn",
    "james",
    "evelyn",
]
LAST = ["_codes", "_dev", "builds", "_ops", "writes", "_io", "42", "_lab", "_on_call", "_py"]
ABOUT = [
    "Writes Python by day and bread by night.",
    "Backend engineer. Likes boring technology and short meetings.",
    "I break things so you don't have to. QA for 12 years.",
    "Hypermedia enthusiast. Ask me about htmx.",
    "Databases, distributed systems, and too much coffee.",
    "Learning Flask one tutorial at a time.",
    "Open-source maintainer. Please read the contributing guide. <3",
    "Designer who codes; coder who designs.",
    "",
    "On call this week. Be kind.",
]
OPENERS = [
    "Just shipped",
    "Today I learned about",
    "Hot take:",
    "Does anyone else love",
    "Spent the afternoon debugging",
    "Finally understood",
    "Reading about",
    "Pair-programmed on",
    "Refactored",
    "Wrote a test for",
]
TOPICS = [
    "keyset pagination",
    "SQLAlchemy 2.0 typed models",
    "htmx fragments",
    "Tippy.js popovers",
    "Alembic batch migrations",
    "argon2 parameters",
    "Content-Security-Policy headers",
    "gunicorn workers",
    "PostgreSQL indexes",
    "WAL mode in SQLite",
    "Flask blueprints",
    "WTForms validators",
    "rate limiting with Redis",
    "ARIA for popups",
]
CLOSERS = [
    "",
    " Worth it.",
    " 10/10 would recommend.",
    " Send help.",
    " More soon.",
    "\nNotes in the thread below.",
    " Why did nobody tell me sooner?",
    " 🎉",
]


@dataclass
class DemoSummary:
    users: int
    comments: int
    follows: int


def username(index: int) -> str:
    """Distinct for every index: a first part, a second part, then a number past 270."""
    first = FIRST[index % len(FIRST)]
    last = LAST[(index // len(FIRST)) % len(LAST)]
    round_number = index // (len(FIRST) * len(LAST))
    return f"{first}{last}{round_number or ''}"


def comment(rng: random.Random) -> str:
    return f"{rng.choice(OPENERS)} {rng.choice(TOPICS)}.{rng.choice(CLOSERS)}"


def batches(rows: Iterator[dict], size: int = BATCH_SIZE) -> Iterator[list[dict]]:
    batch: list[dict] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(
    users: int,
    comments: int,
    *,
    seed_value: int = 2026,
    weeks: int = 4,
    progress: Callable[[int], None] = lambda done: None,
) -> DemoSummary:
    """Add `users` users (the first is `demo`) and `comments` comments to the database."""
    rng = random.Random(seed_value)
    now = utcnow()
    # One hash for every demo account: hashing is deliberately slow, and these are demos.
    password_hash = hash_password(DEMO_PASSWORD)
    names = [DEMO_USERNAME] + [username(i) for i in range(users - 1)]
    db.session.execute(
        insert(User),
        [
            {
                # Demo addresses cannot receive mail: counted as confirmed, so the demo
                # login is not greeted by a "confirm your address" banner.
                "email_confirmed_at": now,
                "username": name,
                "username_canon": name.casefold(),
                "username_skeleton": username_skeleton(name),
                "email": f"{name.casefold()}@demo.invalid",
                "password_hash": password_hash,
                "about_me": rng.choice(ABOUT),
                "created_at": now - timedelta(days=rng.randint(30, 900)),
                "last_seen": now - timedelta(minutes=rng.randint(1, 60 * 24 * 10)),
            }
            for name in names
        ],
    )
    ids = list(db.session.scalars(select(User.id).where(User.username_canon.in_(names))))
    progress(len(ids))

    # A few prolific authors and a long tail, as in any real community.
    weights = [1 / (rank + 1) for rank in range(len(ids))]
    span = timedelta(weeks=weeks).total_seconds()
    post_rows = (
        {
            "body": comment(rng),
            "user_id": author,
            "timestamp": now - timedelta(seconds=rng.uniform(0, span)),
        }
        for author in rng.choices(ids, weights=weights, k=comments)
    )
    for batch in batches(post_rows):
        db.session.execute(insert(Post), batch)
        progress(len(batch))

    follow_rows = [
        {"follower_id": follower, "followed_id": followed}
        for follower in ids
        for followed in rng.sample(ids, k=min(len(ids), rng.randint(0, 15)))
        if followed != follower
    ]
    for batch in batches(iter(follow_rows)):
        db.session.execute(insert(follow), batch)
    recount()
    db.session.commit()
    return DemoSummary(users=len(ids), comments=comments, follows=len(follow_rows))


def recount() -> None:
    """Set every counter column from the rows it counts (used after bulk inserts)."""
    posts = select(func.count()).where(Post.user_id == User.id).scalar_subquery()
    followers = select(func.count()).where(follow.c.followed_id == User.id).scalar_subquery()
    following = select(func.count()).where(follow.c.follower_id == User.id).scalar_subquery()
    db.session.execute(
        update(User).values(post_count=posts, follower_count=followers, following_count=following)
    )


def has_users() -> bool:
    return db.session.scalar(select(User.id).limit(1)) is not None


def demo_user_exists() -> bool:
    return (
        db.session.scalar(select(User.id).where(User.username_canon == DEMO_USERNAME)) is not None
    )


def login_hint() -> str:
    return f"Log in as {DEMO_USERNAME!r} with password {DEMO_PASSWORD!r}."
