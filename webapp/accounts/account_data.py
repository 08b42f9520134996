""" "Your data": everything the app keeps about a user, as one JSON document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from webapp.accounts.sessions import live_sessions
from webapp.core.extensions import db
from webapp.core.timeutil import utcnow
from webapp.models import Post
from webapp.models import User
from webapp.models import follow


def when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def export(user: User) -> dict[str, Any]:
    following = db.session.scalars(
        select(User.username)
        .join(follow, follow.c.followed_id == User.id)
        .where(follow.c.follower_id == user.id)
        .order_by(User.username_canon)
    ).all()
    followers = db.session.scalars(
        select(User.username)
        .join(follow, follow.c.follower_id == User.id)
        .where(follow.c.followed_id == user.id)
        .order_by(User.username_canon)
    ).all()
    comments = db.session.execute(
        select(Post.id, Post.body, Post.timestamp)
        .where(Post.user_id == user.id)
        .order_by(Post.timestamp, Post.id)
    ).all()
    current = user.current_session
    return {
        "exported_at": when(utcnow()),
        "profile": {
            "username": user.username,
            "email": user.email,
            "email_confirmed_at": when(user.email_confirmed_at),
            "about_me": user.about_me,
            "created_at": when(user.created_at),
            "last_seen": when(user.last_seen),
        },
        "comments": [
            {"id": id, "body": body, "posted_at": when(timestamp)}
            for id, body, timestamp in comments
        ],
        "following": list(following),
        "followers": list(followers),
        "sessions": [
            {
                "device": row.device,
                "created_at": when(row.created_at),
                "last_seen_at": when(row.last_seen_at),
                "remembered": row.remembered,
                "expires_at": when(row.expires_at),
                "this_device": current is not None and row.id == current.id,
            }
            for row in live_sessions(user.id)
        ],
    }
