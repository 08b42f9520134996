"""The Flask application class."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask


class Application(Flask):
    """Flask, answering `ensure_sync` once per function.

    Flask asks `ensure_sync` about every hook and view on every request (13 for an
    authenticated request here) and each answer inspects the function's code flags: the
    authenticated floor in-process went from 212 to 207 µs (docs/performance.md). The answer
    never changes for a function, so it is kept (the set of hooks and views is fixed once
    the app is built, so this stays small). Flask's documentation names this method as the
    one to override.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._synchronous: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        synchronous = self._synchronous.get(func)
        if synchronous is None:
            synchronous = self._synchronous[func] = super().ensure_sync(func)
        return synchronous
