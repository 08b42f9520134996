"""Running a write again when the database chose it as a deadlock or serialisation victim.

PostgreSQL resolves a lock cycle by aborting one of the transactions in it (SQLSTATE 40P01)
and reports SQLSTATE 40001 when a serialisable transaction cannot be ordered. Both mean
"nothing happened, try again": the work is run again from the start, a few times, before
the error is let through (as a 503 page). SQLite never raises these: its writers queue
behind BEGIN IMMEDIATE.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError

from webapp.core.extensions import db

RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
ATTEMPTS = 5

Result = TypeVar("Result")


def is_retryable(error: DBAPIError) -> bool:
    return getattr(error.orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def retrying(work: Callable[[], Result]) -> Result:
    """Run `work` (which commits) until it succeeds, retrying deadlock victims."""
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return work()
        except DBAPIError as error:
            db.session.rollback()
            if attempt == ATTEMPTS or not is_retryable(error):
                raise
            time.sleep(0.01 * attempt)  # let the transaction that won finish first
    raise AssertionError("unreachable")
