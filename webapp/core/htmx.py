"""Small helpers for answering htmx requests."""

from __future__ import annotations

from flask import request


def is_htmx() -> bool:
    """True for requests htmx made (it sends `HX-Request: true`), except history restores,
    which need the full page."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )
