"""Fast URLs for the links every comment carries (profile, card, avatar).

A feed page has three user URLs per comment, sixty a page. Werkzeug's url_for is general
(converters, defaults, host matching, escaping) and costs tens of microseconds a call; these
URLs are a fixed prefix and suffix around a username. So url_for builds each shape once per
app and script root, and the name is put in between, percent-encoded like url_for would.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from flask import current_app
from flask import request
from flask import url_for

PLACEHOLDER = "NAME-PLACEHOLDER"
PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+")
# What Werkzeug's string converter leaves unescaped (WHATWG's path-segment set).
PATH_SEGMENT_SAFE = "!$&'()*+,/:;=@"
_shapes: dict[tuple[int, str, str], tuple[str, str]] = {}  # (app, script root, endpoint)


def user_url(endpoint: str, name: str, argument: str = "username") -> str:
    """`url_for(endpoint, **{argument: name})`, for endpoints whose only argument is a name."""
    key = (id(current_app._get_current_object()), request.script_root, endpoint)
    shape = _shapes.get(key)
    if shape is None:
        built = url_for(endpoint, **{argument: PLACEHOLDER})
        prefix, _, suffix = built.partition(PLACEHOLDER)
        shape = _shapes[key] = (prefix, suffix)
    # Names are ASCII letters, digits and underscores, which quote() returns unchanged;
    # skipping it for them saves a call per link (three links a comment, sixty a page).
    encoded = name if PLAIN_NAME.fullmatch(name) else quote(name, safe=PATH_SEGMENT_SAFE)
    return f"{shape[0]}{encoded}{shape[1]}"
