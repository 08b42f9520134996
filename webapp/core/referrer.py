"""Refusing a malformed `Referer` before Flask-WTF's CSRF check can crash on it.

On HTTPS, Flask-WTF (WTF_CSRF_SSL_STRICT) compares the Referer's origin with the host's, and
`urlparse(...).port` raises ValueError for a port like `:x` or `:99999` (`urlsplit` itself
raises for an unclosed `[`). Left alone that is a 500; a header the client got wrong is a bad
request, so it gets the same friendly 400 as any other failed CSRF check.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask
from flask import current_app
from flask import request
from flask_wtf.csrf import CSRFError

MALFORMED_MESSAGE = "The referrer header is malformed."


def init_app(app: Flask) -> None:
    """Register the check; it must run before CSRFProtect's, so call this before
    `csrf.init_app` (before_request hooks run in the order they were added)."""
    app.before_request(refuse_malformed_referrer)


def refuse_malformed_referrer() -> None:
    if not will_compare_origins():
        return
    # Flask-WTF compares the Referer with `https://<Host>/`: both must parse.
    if not parses(request.referrer or "") or not parses(f"https://{request.host}/"):
        raise CSRFError(MALFORMED_MESSAGE)


def will_compare_origins() -> bool:
    """The conditions under which Flask-WTF's CSRF check reads the Referer's port. Views
    exempted from CSRF are not singled out: a malformed header is refused there too."""
    config = current_app.config
    return bool(
        request.referrer
        and request.is_secure
        and config.get("WTF_CSRF_ENABLED", True)
        and config.get("WTF_CSRF_CHECK_DEFAULT", True)
        and config.get("WTF_CSRF_SSL_STRICT", True)
        and request.method in config.get("WTF_CSRF_METHODS", {"POST", "PUT", "PATCH", "DELETE"})
    )


def parses(url: str) -> bool:
    """Whether `same_origin` can read this URL's scheme, host name and port."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- the property validates the port; reading it is the check
        parts.hostname  # noqa: B018
    except ValueError:
        return False
    return True
