"""What each counter column counts, said once, in SQL.

The counters (a user's comments, followers and follows; a top comment's replies) are kept
up to date by the writes that change what they count, in the same transaction. These are
the recounts from the rows themselves: demo data sets the counters with them after its
bulk inserts, and the tests compare every counter with them.
"""

from __future__ import annotations

from sqlalchemy import ScalarSelect
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import aliased

from webapp.accounts.models import User
from webapp.conversation.models import Post
from webapp.people.models import follow


def user_recounts() -> dict[str, ScalarSelect[int]]:
    """Column name -> its recount, correlated with the `User` row of the outer statement.
    A deleted comment left post_count when it was deleted (Undo counts it back)."""
    return {
        "post_count": select(func.count())
        .where(Post.user_id == User.id, Post.deleted_at.is_(None))
        .scalar_subquery(),
        "follower_count": select(func.count())
        .where(follow.c.followed_id == User.id)
        .scalar_subquery(),
        "following_count": select(func.count())
        .where(follow.c.follower_id == User.id)
        .scalar_subquery(),
    }


def reply_recount() -> ScalarSelect[int]:
    """A top comment's live replies, correlated with the `Post` row of the outer statement."""
    reply = aliased(Post)
    return (
        select(func.count())
        .where(reply.parent_id == Post.id, reply.deleted_at.is_(None))
        .scalar_subquery()
    )
