""" "Your data": everything the app keeps about a user, as one JSON document."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column
from sqlalchemy import select

from webapp.accounts.models import User
from webapp.accounts.request_user import CurrentUser
from webapp.accounts.sessions import live_sessions
from webapp.conversation.models import Post
from webapp.core.extensions import db
from webapp.core.timeutil import utcnow
from webapp.people.models import follow


def when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def names_across_follows(them: Column, me: Column, user: CurrentUser) -> list[str]:
    """The names at the `them` end of the user's follows (whom they follow, or who follows
    them), alphabetically."""
    return list(
        db.session.scalars(
            select(User.username)
            .join(follow, them == User.id)
            .where(me == user.id)
            .order_by(User.username_canon)
        )
    )


def export(user: CurrentUser) -> dict[str, Any]:
    following = names_across_follows(them=follow.c.followed_id, me=follow.c.follower_id, user=user)
    followers = names_across_follows(them=follow.c.follower_id, me=follow.c.followed_id, user=user)
    comments = db.session.execute(
        select(Post.id, Post.body, Post.timestamp, Post.edited_at, Post.deleted_at)
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
            "show_hovercards": user.show_hovercards,
        },
        "comments": [
            # A deleted comment is still stored until purge-comments removes it: listed,
            # with the time it was deleted.
            {
                "id": id,
                "body": body,
                "posted_at": when(timestamp),
                "edited_at": when(edited_at),
                "deleted_at": when(deleted_at),
            }
            for id, body, timestamp, edited_at, deleted_at in comments
        ],
        "following": following,
        "followers": followers,
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
