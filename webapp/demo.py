"""Demo data: varied users, about-me texts, comments over recent weeks, and follows.

Rows go in with bulk INSERTs (one statement per batch, not one ORM object per row) and the
counter columns are computed once at the end from the rows themselves, so the result is
consistent by construction and 100,000 comments take seconds. Mentions are found in the
stored texts afterwards by the same rules as when a user saves one.

What a visitor meets first is arranged, not left to chance: the newest comments are by the
first few users (the "circle"), mention each other and link to documentation; the circle's
about-me texts mention each other; and the circle and `demo` all follow one another. So the
first card hovered in `serve` shows mentions, a link's neighbour and mutual follows.

The feed is a conversation from the start: the circle's comments have replies from the
last few minutes (one answering another reply, so it starts with @name), the newest one
was edited, and about one older comment in eight has a short thread; a few older comments
are marked edited too.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from datetime import timedelta

from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from webapp.accounts.identity import username_skeleton
from webapp.accounts.models import User
from webapp.accounts.passwords import hash_password
from webapp.conversation.models import Post
from webapp.conversation.models import post_mention
from webapp.conversation.segments import mentioned_names
from webapp.core.extensions import db
from webapp.core.timeutil import utcnow
from webapp.counters import reply_recount
from webapp.counters import user_recounts
from webapp.people.models import about_me_mention
from webapp.people.models import follow

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


# About one comment in five mentions someone ({name}), and one in ten links somewhere.
MENTIONING = [
    "Pairing with @{name} on {topic} today.",
    "@{name} finally explained {topic} to me. Thanks!",
    "Ask @{name} about {topic}: they wrote the notes.",
    "Reviewing @{name}'s patch for {topic}.",
]
LINKING = [
    "Good read on {topic}: {url}",
    "Bookmarking {url} for later.",
    "The docs say it best: {url} (via @{name})",
]
CIRCLE_LINKING = "The docs say it best: {url} (via @{name})"  # a link and a mention
URLS = [
    "https://htmx.org/docs/",
    "https://atomiks.github.io/tippyjs/v6/all-props/",
    "https://flask.palletsprojects.com/en/stable/patterns/",
    "https://docs.sqlalchemy.org/en/20/orm/queryguide/select.html",
    "https://alembic.sqlalchemy.org/en/latest/batch.html",
    "https://www.postgresql.org/docs/current/indexes-multicolumn.html",
    "https://cheatsheetseries.owasp.org/cheatsheets/Content_Security_Policy_Cheat_Sheet.html",
]
ABOUT_MENTIONING = [
    "Pairs with @{name} on most things.",
    "Maintains the docs with @{name}. Say hi!",
    "Learning {topic} from @{name}.",
]
REPLYING = [
    "Same here: {topic} took me a while too.",
    "Thanks for sharing!",
    "Do you have notes on {topic}?",
    "Agreed. More of this, please.",
    "Bookmarked. 👍",
    "This is exactly what I needed today.",
    "How did you test it?",
]
# A reply to a reply names the person answered, as the Reply button's form starts it.
ANSWERING = "@{name} good question: the notes are in the docs."
OLD_THREAD_SHARE = 0.125  # of the older comments, the share with a few replies
EDITED_SHARE = 0.05  # of the older comments, the share marked edited
CIRCLE_SIZE = 5  # the first users after `demo`
# The circle's comments are the newest, a few minutes apart; the others are older than this.
CIRCLE_WINDOW = timedelta(hours=1)


@dataclass
class DemoSummary:
    users: int
    comments: int
    replies: int
    follows: int


def username(index: int) -> str:
    """Distinct for every index: a first part, a second part, then a number past 270."""
    first = FIRST[index % len(FIRST)]
    last = LAST[(index // len(FIRST)) % len(LAST)]
    round_number = index // (len(FIRST) * len(LAST))
    return f"{first}{last}{round_number or ''}"


def comment(rng: random.Random) -> str:
    return f"{rng.choice(OPENERS)} {rng.choice(TOPICS)}.{rng.choice(CLOSERS)}"


def varied_comment(rng: random.Random, names: list[str]) -> str:
    """A comment that now and then mentions one of `names` or links to some docs."""
    roll = rng.random()
    if roll < 0.2:
        return mentioning(rng, rng.choice(names))
    if roll < 0.3:
        return linking(rng, rng.choice(names))
    return comment(rng)


def mentioning(rng: random.Random, name: str) -> str:
    return rng.choice(MENTIONING).format(name=name, topic=rng.choice(TOPICS))


def linking(rng: random.Random, name: str) -> str:
    return rng.choice(LINKING).format(name=name, topic=rng.choice(TOPICS), url=rng.choice(URLS))


def about_me(rng: random.Random, names: list[str]) -> str:
    if rng.random() < 0.15:
        return rng.choice(ABOUT_MENTIONING).format(name=rng.choice(names), topic=rng.choice(TOPICS))
    return rng.choice(ABOUT)


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
    circle = names[1 : 1 + CIRCLE_SIZE]
    abouts = {name: about_me(rng, names) for name in names}
    for place, name in enumerate(circle):
        abouts[name] = ABOUT_MENTIONING[place % len(ABOUT_MENTIONING)].format(
            name=next_in(circle, place), topic=TOPICS[place]
        )
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
                "about_me": abouts[name],
                "created_at": now - timedelta(days=rng.randint(30, 900)),
                "last_seen": now - timedelta(minutes=rng.randint(1, 60 * 24 * 10)),
            }
            for name in names
        ],
    )
    rows = db.session.execute(
        select(User.username_canon, User.id).where(User.username_canon.in_(names))
    )
    id_of = {canonical: user_id for canonical, user_id in rows}
    ids = [id_of[name.casefold()] for name in names]
    progress(len(ids))

    for batch in batches(post_rows(rng, now, weeks, comments, names, ids, circle)):
        db.session.execute(insert(Post), batch)
        progress(len(batch))
    replies = 0
    for batch in batches(reply_rows(rng, now, names, ids, len(circle))):
        db.session.execute(insert(Post), batch)
        replies += len(batch)

    pairs = follow_pairs(rng, ids, [id_of[name.casefold()] for name in [DEMO_USERNAME, *circle]])
    follow_rows = [{"follower_id": a, "followed_id": b} for a, b in sorted(pairs)]
    for batch in batches(iter(follow_rows)):
        db.session.execute(insert(follow), batch)
    mark_edited(rng)
    store_mentions(id_of)
    recount()
    db.session.commit()
    return DemoSummary(users=len(ids), comments=comments, replies=replies, follows=len(follow_rows))


def post_rows(
    rng: random.Random,
    now: datetime,
    weeks: int,
    comments: int,
    names: list[str],
    ids: list[int],
    circle: list[str],
) -> Iterator[dict]:
    """The circle's comments first (the newest, each mentioning the next member, every
    other one with a link), then the rest, older, from a few prolific authors and a long
    tail, as in any real community."""
    author_of = dict(zip(names, ids, strict=True))
    newest = circle[:comments]
    for place, name in enumerate(newest):
        mentioned = next_in(circle, place)
        body = (
            CIRCLE_LINKING.format(url=URLS[place % len(URLS)], name=mentioned)
            if place % 2
            else mentioning(rng, mentioned)
        )
        yield {
            "body": body,
            "user_id": author_of[name],
            "timestamp": now - timedelta(minutes=4 * place + 2),
        }
    weights = [1 / (rank + 1) for rank in range(len(ids))]
    oldest = timedelta(weeks=weeks).total_seconds()
    newer = CIRCLE_WINDOW.total_seconds()
    for author in rng.choices(ids, weights=weights, k=comments - len(newest)):
        yield {
            "body": varied_comment(rng, names),
            "user_id": author,
            "timestamp": now - timedelta(seconds=rng.uniform(newer, oldest)),
        }


def reply_rows(
    rng: random.Random, now: datetime, names: list[str], ids: list[int], circle_size: int
) -> Iterator[dict]:
    """Replies to the stored top comments: every one of the circle's newest comments gets
    two to four from the last minutes (the third answering the second's author), and about
    one older comment in eight gets one to three. Each reply comes after its comment."""
    name_of = dict(zip(ids, names, strict=True))
    top = db.session.execute(
        select(Post.id, Post.timestamp, Post.user_id)
        .where(Post.parent_id.is_(None))
        .order_by(Post.timestamp.desc(), Post.id.desc())
    ).all()
    for place, (parent, posted, author) in enumerate(top):
        if place < circle_size:
            count = 2 + place % 3
        elif rng.random() < OLD_THREAD_SHARE:
            count = rng.randint(1, 3)
        else:
            continue
        span = max((now - posted).total_seconds() - 20, 1.0)
        times = sorted(rng.uniform(0, span) for _ in range(count))
        repliers = [rng.choice([i for i in ids if i != author]) for _ in range(count)]
        for number, (offset, replier) in enumerate(zip(times, repliers, strict=True)):
            if number == 2:
                body = ANSWERING.format(name=name_of[repliers[1]])
            else:
                body = rng.choice(REPLYING).format(topic=rng.choice(TOPICS))
            yield {
                "body": body,
                "user_id": replier,
                "timestamp": posted + timedelta(seconds=offset),
                "parent_id": parent,
            }


def mark_edited(rng: random.Random) -> None:
    """The newest comment and a few older ones were edited within their 15 minutes."""
    top = db.session.execute(
        select(Post.id, Post.timestamp)
        .where(Post.parent_id.is_(None))
        .order_by(Post.timestamp.desc())
    ).all()
    edited = top[:1] + [row for row in top[1:] if rng.random() < EDITED_SHARE]
    for post_id, posted in edited:
        db.session.execute(
            update(Post)
            .where(Post.id == post_id)
            .values(edited_at=posted + timedelta(seconds=rng.randint(20, 600)))
            .execution_options(synchronize_session=False)
        )


def next_in(circle: list[str], place: int) -> str:
    """Who the member at `place` mentions: the next one round the circle (or `demo`, in a
    circle of one)."""
    return circle[(place + 1) % len(circle)] if len(circle) > 1 else DEMO_USERNAME


def follow_pairs(rng: random.Random, ids: list[int], circle: list[int]) -> set[tuple[int, int]]:
    """(follower, followed): each user follows up to 15 others, about a third of follows
    are returned (friends follow each other), and the circle all follow one another."""
    pairs = {
        (follower, followed)
        for follower in ids
        for followed in rng.sample(ids, k=min(len(ids), rng.randint(0, 15)))
        if followed != follower
    }
    pairs |= {(followed, follower) for follower, followed in sorted(pairs) if rng.random() < 0.33}
    pairs |= {(a, b) for a in circle for b in circle if a != b}
    return pairs


def store_mentions(id_of: dict[str, int]) -> None:
    """Mention rows for the stored texts, found by the rules a saved text goes through."""
    post_mentions = [
        {"post_id": post_id, "user_id": id_of[name]}
        for post_id, body in db.session.execute(
            select(Post.id, Post.body).where(Post.body.contains("@"))
        )
        for name in mentioned_names(body)
        if name in id_of
    ]
    for batch in batches(iter(post_mentions)):
        db.session.execute(insert(post_mention), batch)
    about_mentions = [
        {"owner_id": owner_id, "user_id": id_of[name]}
        for owner_id, text in db.session.execute(
            select(User.id, User.about_me).where(User.about_me.contains("@"))
        )
        for name in mentioned_names(text)
        if name in id_of
    ]
    for batch in batches(iter(about_mentions)):
        db.session.execute(insert(about_me_mention), batch)


def recount() -> None:
    """Set every counter column from the rows it counts (used after bulk inserts)."""
    db.session.execute(
        update(Post)
        .where(Post.parent_id.is_(None))
        .values(reply_count=reply_recount())
        .execution_options(synchronize_session=False)
    )
    db.session.execute(update(User).values(user_recounts()))


def has_users() -> bool:
    return db.session.scalar(select(User.id).limit(1)) is not None


def demo_user_exists() -> bool:
    return (
        db.session.scalar(select(User.id).where(User.username_canon == DEMO_USERNAME)) is not None
    )


def login_hint() -> str:
    return f"Log in as {DEMO_USERNAME!r} with password {DEMO_PASSWORD!r}."
