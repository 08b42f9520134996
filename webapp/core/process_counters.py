"""Rate-limit counters in this process's memory, without a thread per hit.

`RATELIMIT_STORAGE_URI=process-memory://` (the default) selects it. It does what the
`limits` library's `memory://` storage does for fixed windows (the only strategy used here),
minus that storage's expiry timer: `memory://` starts a new 10 ms `threading.Timer` thread
whenever the previous one has finished, which under load is one thread started for every
request or two that counts a hit. That thread was the largest cost of a card with the
limits on (bench.profile, docs/performance.md). Here an expired counter is dropped when it
is next read, and the others are swept on the request's own thread at most once a second,
so memory stays bounded by the counters of the last window.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from limits.storage import Storage

SWEEP_INTERVAL_SECONDS = 1.0


class ProcessCounters(Storage):
    STORAGE_SCHEME = ["process-memory"]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.counts: dict[str, int] = {}
        self.expiries: dict[str, float] = {}
        # Gunicorn's sync workers serve one request at a time; the development server and
        # threaded workers do not. An uncontended lock costs well under a microsecond.
        self.lock = threading.Lock()
        self.next_sweep = time.time() + SWEEP_INTERVAL_SECONDS

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return ValueError

    def _drop_if_expired(self, key: str, now: float) -> None:
        if self.expiries.get(key, 0.0) <= now:
            self.counts.pop(key, None)
            self.expiries.pop(key, None)

    def _sweep(self, now: float) -> None:
        if now < self.next_sweep:
            return
        self.next_sweep = now + SWEEP_INTERVAL_SECONDS
        for key in [key for key, expiry in self.expiries.items() if expiry <= now]:
            self.counts.pop(key, None)
            self.expiries.pop(key, None)

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        now = time.time()
        with self.lock:
            self._sweep(now)
            self._drop_if_expired(key, now)
            if key not in self.counts:
                # A window starts with its first hit, as in `limits`' own storages.
                self.counts[key] = 0
                self.expiries[key] = now + expiry
            self.counts[key] += amount
            return self.counts[key]

    def get(self, key: str) -> int:
        with self.lock:
            self._drop_if_expired(key, time.time())
            return self.counts.get(key, 0)

    def get_expiry(self, key: str) -> float:
        with self.lock:
            return self.expiries.get(key, time.time())

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self.lock:
            cleared = len(self.counts)
            self.counts.clear()
            self.expiries.clear()
            return cleared

    def clear(self, key: str) -> None:
        with self.lock:
            self.counts.pop(key, None)
            self.expiries.pop(key, None)
