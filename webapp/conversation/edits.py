"""Changing a comment after posting it: editing (for 15 minutes), deleting with Undo, and
purging what was deleted long ago.

A delete is a mark (`deleted_at`), so Undo is clearing it. The counters that count live
comments (the author's `post_count`, a top comment's `reply_count`) change in the same
transaction as the mark, through a conditional UPDATE whose RETURNING says whether this
request changed the row: deleting or restoring twice counts once. `purge-comments` later
removes the rows for good; the counters were already right, so it changes none.
"""

from __future__ import annotations

from datetime import datetime
from datetime import timedelta

from sqlalchemy import delete
from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.orm import aliased

from webapp.accounts.models import User
from webapp.conversation.mentions import resolve
from webapp.conversation.mentions import save_post_mentions
from webapp.conversation.models import Post
from webapp.conversation.models import post_mention
from webapp.conversation.posts import PostView
from webapp.conversation.posts import find_comment
from webapp.core.extensions import db
from webapp.core.timeutil import utcnow
from webapp.core.transactions import retrying

EDIT_WINDOW = timedelta(minutes=15)
# The "Comment deleted · Undo" notice shows this long...
UNDO_NOTICE = timedelta(seconds=10)
# ...and Undo is still honoured a little longer, for a click that travelled a slow network.
UNDO_WINDOW = UNDO_NOTICE + timedelta(seconds=20)

TOO_LATE_TO_EDIT = "Comments can only be edited for 15 minutes after posting."
TOO_LATE_TO_UNDO = "Too late to undo: the comment is deleted."
NOT_FOUND = "There is no such comment."
NOT_YOURS = "You can only change your own comments."


class CommentNotFound(LookupError):
    """No such comment, or it is deleted (for everyone but its placeholder)."""


class NotYourComment(PermissionError):
    pass


class TooLate(Exception):
    """The edit window or the Undo window has closed."""


def editable_until(timestamp: datetime) -> datetime:
    return timestamp + EDIT_WINDOW


def can_still_edit(post: PostView, now: datetime | None = None) -> bool:
    return not post.deleted and (now or utcnow()) < editable_until(post.timestamp)


def own_live_post(post_id: int, user_id: int) -> PostView:
    """The user's own comment, not deleted; else CommentNotFound or NotYourComment."""
    post = find_comment(post_id)
    if post is None or post.deleted:
        raise CommentNotFound(NOT_FOUND)
    if post.user_id != user_id:
        raise NotYourComment(NOT_YOURS)
    return post


def _refusal(post_id: int, user_id: int) -> Exception:
    """Why a conditional UPDATE of the user's comment changed no row (read in the same
    transaction, after the UPDATE found nothing to change)."""
    row = db.session.execute(
        select(Post.user_id, Post.deleted_at).where(Post.id == post_id)
    ).first()
    if row is None:
        return CommentNotFound(NOT_FOUND)
    if row.user_id != user_id:
        return NotYourComment(NOT_YOURS)
    if row.deleted_at is not None:
        return CommentNotFound(NOT_FOUND)
    return TooLate(TOO_LATE_TO_EDIT)


def edit_post(post_id: int, user_id: int, body: str) -> None:
    """Replace the body of the user's comment, and its mentions, while it is editable.
    Raises CommentNotFound, NotYourComment or TooLate; nothing is changed then."""

    def work() -> None:
        mentioned = resolve(body)  # first: it locks the mentioned accounts (see resolve)
        now = utcnow()
        changed = db.session.execute(
            update(Post)
            .where(
                Post.id == post_id,
                Post.user_id == user_id,
                Post.deleted_at.is_(None),
                Post.timestamp > now - EDIT_WINDOW,
            )
            .values(body=body, edited_at=now)
            .returning(Post.id)
            .execution_options(synchronize_session=False)
        ).first()
        if changed is None:
            refusal = _refusal(post_id, user_id)
            db.session.rollback()
            raise refusal
        db.session.execute(delete(post_mention).where(post_mention.c.post_id == post_id))
        save_post_mentions(post_id, mentioned)
        db.session.commit()

    retrying(work)


def _count_live(user_id: int, parent_id: int | None, delta: int) -> None:
    """The counters of one live comment more (+1) or fewer (-1), in SQL."""
    db.session.execute(
        update(User)
        .where(User.id == user_id)
        .values(post_count=User.post_count + delta)
        .execution_options(synchronize_session=False)
    )
    if parent_id is not None:
        db.session.execute(
            update(Post)
            .where(Post.id == parent_id)
            .values(reply_count=Post.reply_count + delta)
            .execution_options(synchronize_session=False)
        )


def delete_post(post_id: int, user_id: int) -> bool:
    """Mark the user's comment deleted and count it out, in one transaction. True when this
    call deleted it, False when it was deleted already (nothing counted twice). Raises
    CommentNotFound or NotYourComment."""

    def work() -> bool:
        deleted = db.session.execute(
            update(Post)
            .where(Post.id == post_id, Post.user_id == user_id, Post.deleted_at.is_(None))
            .values(deleted_at=utcnow())
            .returning(Post.parent_id)
            .execution_options(synchronize_session=False)
        ).first()
        if deleted is None:
            owner = db.session.scalar(select(Post.user_id).where(Post.id == post_id))
            db.session.rollback()
            if owner is None:
                raise CommentNotFound(NOT_FOUND)
            if owner != user_id:
                raise NotYourComment(NOT_YOURS)
            return False  # deleted already, by an earlier click
        _count_live(user_id, deleted.parent_id, -1)
        db.session.commit()
        return True

    return retrying(work)


def restore_post(post_id: int, user_id: int) -> bool:
    """Undo a delete made less than UNDO_WINDOW ago, counting the comment back in, in one
    transaction. True when this call restored it, False when it was live already. Raises
    CommentNotFound, NotYourComment or TooLate."""

    def work() -> bool:
        now = utcnow()
        restored = db.session.execute(
            update(Post)
            .where(
                Post.id == post_id,
                Post.user_id == user_id,
                Post.deleted_at.is_not(None),
                Post.deleted_at > now - UNDO_WINDOW,
            )
            .values(deleted_at=None)
            .returning(Post.parent_id)
            .execution_options(synchronize_session=False)
        ).first()
        if restored is None:
            row = db.session.execute(
                select(Post.user_id, Post.deleted_at).where(Post.id == post_id)
            ).first()
            db.session.rollback()
            if row is None:
                raise CommentNotFound(NOT_FOUND)
            if row.user_id != user_id:
                raise NotYourComment(NOT_YOURS)
            if row.deleted_at is None:
                return False  # restored already, by an earlier click
            raise TooLate(TOO_LATE_TO_UNDO)
        _count_live(user_id, restored.parent_id, +1)
        db.session.commit()
        return True

    return retrying(work)


def purge_deleted(older_than: timedelta, now: datetime | None = None) -> int:
    """Remove comments deleted more than `older_than` ago; the number of rows removed.

    Replies first, then deleted top comments with no reply rows left at all: one that still
    holds live replies stays, as their placeholder (and so does one whose deleted replies
    are not old enough yet: they go in a later run, then it does). Mention rows go with the
    comments (ON DELETE CASCADE). No counter changes: they counted these rows out when they
    were deleted. Never a comment whose Undo is still honoured (UNDO_WINDOW), whatever
    `older_than` says: the person may be clicking it.
    """
    cutoff = (now or utcnow()) - max(older_than, UNDO_WINDOW)
    replies = db.session.execute(
        delete(Post)
        .where(Post.parent_id.is_not(None), Post.deleted_at < cutoff)
        .execution_options(synchronize_session=False)
    ).rowcount
    reply = aliased(Post)
    tops = db.session.execute(
        delete(Post)
        .where(
            Post.parent_id.is_(None),
            Post.deleted_at < cutoff,
            ~exists().where(reply.parent_id == Post.id),
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return replies + tops
