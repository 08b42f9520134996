"""Keyset pagination: a page is "the N items older than this (timestamp, id)".

Page 500 costs what page 1 costs: the database walks the (timestamp, id) index from the
cursor instead of counting past every earlier row as OFFSET would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC
from datetime import datetime
from typing import Generic
from typing import TypeVar

from werkzeug.exceptions import BadRequest

T = TypeVar("T")

PAGE_SIZE = 20
# Digits only (int() would also take "1_000" or " 7"), bounded so nothing overflows.
CURSOR_PATTERN = re.compile(r"(?P<micros>[0-9]{1,17})_(?P<id>[0-9]{1,18})")


@dataclass(frozen=True, order=True)
class Cursor:
    """A comment's place in feed order: by time, then by id for comments of the same
    microsecond (the order the pages' indexes walk). Cursors compare in that order."""

    timestamp: datetime
    id: int

    def encode(self) -> str:
        micros = round(self.timestamp.timestamp() * 1_000_000)
        return f"{micros}_{self.id}"

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        """The cursor in a `before=` query value; a malformed one is the client's error."""
        if not raw:
            return None
        match = CURSOR_PATTERN.fullmatch(raw)
        if match is None:
            raise BadRequest("That page link is not valid.")
        try:
            timestamp = datetime.fromtimestamp(int(match["micros"]) / 1_000_000, UTC)
        except (ValueError, OverflowError, OSError):
            raise BadRequest("That page link is not valid.") from None
        return cls(timestamp, int(match["id"]))


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: Cursor | None

    @property
    def next_before(self) -> str | None:
        return self.next_cursor.encode() if self.next_cursor else None
