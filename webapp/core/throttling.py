"""Rate limits (Flask-Limiter): who is counted, what counts, and what the page says.

- failed logins, per client address and per account (a wrong password costs, a right one
  does not);
- registration attempts, per client address;
- comments and card fetches, per user.

The limits are settings (RATELIMIT_* in config.py), so a deployment can tune them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from flask import Flask
from flask import Response
from flask import current_app
from flask import request
from flask_limiter import Limiter
from flask_login import current_user

from webapp.accounts.identity import canonical_username

EXTENSION_KEY = "hoverfeed_limiter"


def client_address() -> str:
    # With TRUSTED_PROXIES set, ProxyFix has already put the real client address here.
    return request.remote_addr or "unknown"


def account_key() -> str:
    name = canonical_username(request.form.get("username", ""))[:120]
    return f"account:{name}"


def user_key() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return client_address()


def setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


def login_failed(response: Response) -> bool:
    return response.status_code == 422


# endpoint -> its limits. Each is Flask-Limiter's `limit()` arguments; the limit itself is
# read from the config at request time, so deployments and tests can change it.
ROUTE_LIMITS: dict[str, list[dict[str, Any]]] = {
    "auth.login": [
        {
            "limit_value": setting("RATELIMIT_LOGIN_PER_ADDRESS"),
            "key_func": client_address,
            "methods": ["POST"],
            "deduct_when": login_failed,
            "scope": "login-address",
            "error_message": "Too many failed logins from your network.",
        },
        {
            "limit_value": setting("RATELIMIT_LOGIN_PER_ACCOUNT"),
            "key_func": account_key,
            "methods": ["POST"],
            "deduct_when": login_failed,
            "scope": "login-account",
            "error_message": "Too many failed logins for this account.",
        },
    ],
    "auth.register": [
        {
            "limit_value": setting("RATELIMIT_REGISTER_PER_ADDRESS"),
            "key_func": client_address,
            "methods": ["POST"],
            "scope": "register",
            "error_message": "Too many registrations from your network.",
        }
    ],
    "feed.new_post": [
        {
            "limit_value": setting("RATELIMIT_POSTS_PER_USER"),
            "key_func": user_key,
            "methods": ["POST"],
            "scope": "posts",
            "error_message": "You are posting very fast.",
        }
    ],
    "users.popup": [
        {
            "limit_value": setting("RATELIMIT_CARDS_PER_USER"),
            "key_func": user_key,
            "scope": "cards",
            "error_message": "Too many profile cards in a short time.",
        }
    ],
}


def init_app(app: Flask) -> None:
    """A Limiter of this app's own (Flask-Limiter keeps its first app's settings for good,
    so a module-wide one would carry one app's storage into the next), wrapped around the
    views named in ROUTE_LIMITS."""
    limiter = Limiter(key_func=client_address, app=app)
    app.extensions[EXTENSION_KEY] = limiter
    for endpoint, limits in ROUTE_LIMITS.items():
        view = app.view_functions[endpoint]
        for arguments in limits:
            view = limiter.limit(**arguments)(view)
        app.view_functions[endpoint] = view


def retry_after_seconds() -> int | None:
    """Seconds until the limit that was just hit lets requests through again."""
    current = current_app.extensions[EXTENSION_KEY].current_limit
    if current is None:
        return None
    return max(1, math.ceil(current.reset_at - time.time()))


def in_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{round(seconds / 60)} minutes"


def refusal_message(description: str) -> str:
    seconds = retry_after_seconds()
    when = f"in {in_words(seconds)}" if seconds else "a little later"
    return f"{description} Please try again {when}."
