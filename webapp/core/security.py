"""Security headers on every response: pages, fragments, redirects, static files, errors."""

from __future__ import annotations

from flask import Flask
from flask import Response
from flask import current_app
from flask import g
from flask import request

from webapp.core.config import is_production

# Scripts and styles from our own origin only: no inline code, no eval (htmx is configured
# not to need it), nothing from other hosts.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


def init_app(app: Flask) -> None:
    app.after_request(add_security_headers)


# Two years, the preload list's minimum; sent only over HTTPS (browsers ignore it otherwise).
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


EVERY_RESPONSE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


#: A page made for one user: no shared cache keeps it, and the browser does not keep it
#: either (so Back after logging out shows nothing).
ONE_USERS_PAGE = "private, no-store"


def add_security_headers(response: Response) -> Response:
    # Plain strings, and one pass over the headers to see which are set: Werkzeug's
    # cache-control and vary objects parse and re-serialise the header each time, which was
    # 4 % of an authenticated request in-process (bench.profile, docs/performance.md).
    headers = response.headers
    present = {name.lower() for name in headers.keys()}
    for name, value in EVERY_RESPONSE_HEADERS.items():
        if name.lower() not in present:
            headers[name] = value
    if request.is_secure and is_production(current_app):
        headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    if "cache-control" not in present and logged_in():
        headers["Cache-Control"] = ONE_USERS_PAGE
        vary = headers.get("Vary")
        if not vary:
            headers["Vary"] = "Cookie"
        elif "cookie" not in {part.strip().lower() for part in vary.split(",")}:
            headers["Vary"] = f"{vary}, Cookie"
    return response


def logged_in() -> bool:
    # Only if this request already loaded its user: headers must not cost a query.
    user = g.get("_login_user")
    return bool(user is not None and user.is_authenticated)
