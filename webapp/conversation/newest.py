"""The newest top comment as this process last read it, so that the "N new comments" check
can answer "nothing new", its usual answer, without a statement.

A reader's feed polls from the newest comment it shows; when no top comment in the
database is newer than that, nothing can be new. This module keeps that newest comment for
at most `NEWS_NEWEST_MAX_AGE` seconds (1 by default, against a 20-second poll); the check
reads it again, in the statement that counts (news.count_new), once it is older. Comments
posted through this process raise it at once (post_comment). A comment posted through
another app instance is therefore announced at most that many seconds later than one
posted here: each instance still learns everything from the database, the only source of
truth.

Deleted comments are not left out of it (nor are they when it is read): it can only be
newer than the newest live comment, which costs a count, never a missed comment.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import Flask
from flask import current_app

from webapp.core.pagination import Cursor

#: Seconds a newest comment read from the database is trusted for (app config key).
MAX_AGE_KEY = "NEWS_NEWEST_MAX_AGE"
DEFAULT_MAX_AGE_SECONDS = 1.0
EXTENSION_KEY = "hoverfeed_newest_top_comment"


@dataclass(frozen=True)
class Known:
    newest: Cursor | None  # None: there is no top comment at all
    read_at: float  # time.monotonic()


@dataclass
class NewestTopComment:
    """One per app (so per process: gunicorn forks each worker its own copy). Threads share
    it without a lock: each assignment replaces one Known whole, and a lost race costs at
    most one extra statement or a second's delay."""

    max_age: float
    known: Known | None = None

    def fresh(self) -> Known | None:
        """What is known if it was read less than max_age ago; None: read it again."""
        known = self.known
        if known is None or time.monotonic() - known.read_at >= self.max_age:
            return None
        return known

    def read(self, newest: Cursor | None) -> None:
        self.known = Known(newest, time.monotonic())

    def posted(self, comment: Cursor) -> None:
        """A top comment this process just committed."""
        known = self.known
        if known is not None and is_newer(comment, known.newest):
            self.known = Known(comment, known.read_at)


def is_newer(comment: Cursor | None, than: Cursor | None) -> bool:
    """Whether the comment at `comment` comes after `than` (feed order; None: no comment)."""
    return comment is not None and (than is None or comment > than)


def init_app(app: Flask) -> None:
    max_age = float(app.config.get(MAX_AGE_KEY, DEFAULT_MAX_AGE_SECONDS))
    app.extensions[EXTENSION_KEY] = NewestTopComment(max_age)


def newest_top_comment() -> NewestTopComment:
    return current_app.extensions[EXTENSION_KEY]
