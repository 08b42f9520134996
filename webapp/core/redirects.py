"""Redirects: whether a `next` target is one of our own pages, and never naming the host a
request claims to be for."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Flask
from flask import Response
from flask import request

from webapp.core.config import is_production

# Control, format (zero-width and bidi marks) and separator characters: browsers strip or
# reinterpret them, which is how `/\t/evil.com` becomes `//evil.com`.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})

UNTRUSTED_HOSTS_WARNING = (
    "TRUSTED_HOSTS is not set, so the app answers to any Host header. Redirects never name "
    "the request's host, and nothing here trusts that header, but anything built from it "
    "later (an absolute link, a cache in front keyed on it) would be open to host-header "
    "poisoning. Set TRUSTED_HOSTS to the public host names (e.g. TRUSTED_HOSTS=feed.example.com)."
)


def is_safe_local_path(target: str | None) -> bool:
    """A path on this site: one leading `/`, no backslash, no scheme or host, no invisible
    or space characters. Checked as given, never normalised first: normalising is what lets
    a hostile value through."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target:
        return False
    if any(unicodedata.category(char) in _UNSAFE_CATEGORIES for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def init_app(app: Flask) -> None:
    # Werkzeug answers `//user//demo` with a 308 to an absolute URL built from the Host
    # header; with merging off such a path is simply not found.
    app.url_map.merge_slashes = False
    # Any other absolute redirect to "ourselves" (a strict-slashes 308, a future one) is
    # made relative, so a forged Host never reaches a Location header.
    app.after_request(relative_self_redirect)
    if is_production(app) and not app.config.get("TRUSTED_HOSTS"):
        app.logger.warning(UNTRUSTED_HOSTS_WARNING)


def relative_self_redirect(response: Response) -> Response:
    location = response.headers.get("Location")
    if location:
        response.headers["Location"] = without_own_host(location, request.host, request.scheme)
    return response


def without_own_host(location: str, host: str, scheme: str) -> str:
    """`location` as path, query and fragment when it names `host` on `scheme` (or no
    scheme); anything else is returned as it was. A change of scheme is kept absolute: the
    app makes none, and dropping one would silently downgrade it."""
    try:
        parts = urlsplit(location)
    except ValueError:
        return location
    if not parts.netloc or parts.netloc.lower() != host.lower():
        return location
    if parts.scheme and parts.scheme.lower() != scheme.lower():
        return location
    # A path that starts `//` (or `/\`) would read as a host of its own once the host before
    # it is gone: keep it to a single leading slash.
    path = "/" + parts.path.lstrip("/\\")
    return urlunsplit(("", "", path, parts.query, parts.fragment))
