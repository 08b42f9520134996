"""Small helpers for answering htmx requests."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app
from flask import request
from werkzeug.exceptions import HTTPException


def is_htmx() -> bool:
    """True for requests htmx made (it sends `HX-Request: true`), except history restores,
    which need the full page."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


#: Sent (hx-headers) by requests no person asked for just then: the feed's new-comments
#: check, the end of a "deleted" notice. See is_background.
BACKGROUND_HEADER = "Hoverfeed-Background"


def is_background() -> bool:
    """A request htmx made on its own (a poll, a timer), not for a click or a key: when
    the session has ended meanwhile, it must not take the person to the login page in the
    middle of what they are writing; their next action will."""
    return is_htmx() and request.headers.get(BACKGROUND_HEADER) == "true"


def current_page_endpoint() -> str | None:
    """The endpoint of the page an htmx request was made from (htmx names the page in
    `HX-Current-URL`), for fragments that look different on different pages; None when
    the header is missing or names no page of ours."""
    try:
        path = urlsplit(request.headers.get("HX-Current-URL", "")).path
        endpoint, _ = current_app.url_map.bind("localhost").match(path, method="GET")
    except (ValueError, HTTPException):  # a malformed URL, or no page (404, 405, redirect)
        return None
    return endpoint
