"""Fast URLs for the links every comment carries (profile, card, avatar; its own page,
Reply, Edit, Delete), and for the static files every page links.

A feed page has three user URLs and up to five comment URLs per comment, and up to sixty
comments with their replies. Werkzeug's url_for is general (converters, defaults, host
matching, escaping) and costs tens of microseconds a call; these URLs are a fixed prefix
and suffix around a username or a comment id. So url_for builds each shape once per app and
script root, and the name (percent-encoded like url_for would) or the id is put in between.
A static file's URL (with its version) is built once per app and script root the same way.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from flask import url_for
from flask.ctx import RequestContext
from flask.globals import _cv_request

PLACEHOLDER = "NAME-PLACEHOLDER"
# An id no route's own text contains, to find where the id goes in a built URL.
ID_PLACEHOLDER = 918273645
PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+")
# What Werkzeug's string converter leaves unescaped (WHATWG's path-segment set).
PATH_SEGMENT_SAFE = "!$&'()*+,/:;=@"
# The app's extension holding what this module built, by script root and endpoint (a
# shape) or file name (a static URL): a few dozen entries. On the app, so that no app ever
# sees another's (an id() of a collected app can be reused).
BUILT_URLS = "hoverfeed_built_urls"


def _built_urls(context: RequestContext) -> dict[tuple[str, str, str], Any]:
    built = context.app.extensions.get(BUILT_URLS)
    if built is None:
        built = context.app.extensions[BUILT_URLS] = {}
    return built


def _shape(endpoint: str, argument: str, placeholder: str | int) -> tuple[str, str]:
    """The URL of `endpoint` around its one argument: (prefix, suffix), built once."""
    # The request context read once from its ContextVar: through the `current_app` and
    # `request` proxies this line was most of the call (about 1 µs; a feed page makes some
    # 400 of these calls). Flask's own name for it, stable since Flask 2.3 (pinned).
    context = _cv_request.get()
    built = _built_urls(context)
    key = ("shape", context.request.script_root, endpoint)
    shape = built.get(key)
    if shape is None:
        url = url_for(endpoint, **{argument: placeholder})
        # The last occurrence: a script root (the app under a path prefix) may hold the same.
        prefix, _, suffix = url.rpartition(str(placeholder))
        shape = built[key] = (prefix, suffix)
    return shape


def user_url(name: str, endpoint: str, argument: str = "username") -> str:
    """`url_for(endpoint, **{argument: name})`, for endpoints whose only argument is a name.
    The name comes first: templates call it as a filter, `username | user_url(endpoint)`."""
    prefix, suffix = _shape(endpoint, argument, PLACEHOLDER)
    # Names are ASCII letters, digits and underscores, which quote() returns unchanged;
    # skipping it for them saves a call per link (three links a comment, sixty a page).
    encoded = name if PLAIN_NAME.fullmatch(name) else quote(name, safe=PATH_SEGMENT_SAFE)
    return f"{prefix}{encoded}{suffix}"


def comment_url(post_id: int, endpoint: str) -> str:
    """`url_for(endpoint, post_id=post_id)`, for endpoints whose only argument is a comment
    id (an int: nothing to escape). The id comes first: templates call it as a filter,
    `post.id | comment_url(endpoint)`."""
    prefix, suffix = _shape(endpoint, "post_id", ID_PLACEHOLDER)
    return f"{prefix}{post_id}{suffix}"


def static_url(filename: str) -> str:
    """`url_for("static", filename=filename)`, its version included (static_files.py), built
    once per app, script root and file: a page links eight static files, and url_for with
    the version's URL default cost 26 us a call (measured, 2026-11-28): 0.2 ms a page."""
    context = _cv_request.get()
    if context.app.debug:
        # In development a file edited while the server runs gets a new version.
        return url_for("static", filename=filename)
    built = _built_urls(context)
    key = ("static", context.request.script_root, filename)
    url = built.get(key)
    if url is None:
        url = built[key] = url_for("static", filename=filename)
    return url
