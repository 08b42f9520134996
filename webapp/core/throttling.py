"""Rate limits (Flask-Limiter): who is counted, what counts, and what the page says.

- registration attempts, per client address;
- comments and card fetches, per user (cards by one direct `limits` call: `counted`);
- password-reset requests, per client address and per e-mail address asked about;
  confirmation e-mails and address changes, per user;
- logins are counted by their view (webapp/accounts/login_throttle.py) through `count()`
  here: they must count before they check, which Flask-Limiter's `deduct_when` cannot do.

The limits are settings (RATELIMIT_* in config.py), so a deployment can tune them.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from functools import wraps
from typing import Any
from typing import TypeVar

from email_validator import EmailNotValidError
from email_validator import validate_email
from flask import Flask
from flask import current_app
from flask import request
from flask_limiter import Limiter
from flask_login import current_user
from limits import RateLimitItem
from limits import parse_many
from limits.strategies import FixedWindowRateLimiter
from werkzeug.exceptions import TooManyRequests

# Registers process-memory://, the default RATELIMIT_STORAGE_URI, with the `limits` library.
from webapp.core import process_counters  # noqa: F401

EXTENSION_KEY = "hoverfeed_limiter"

T = TypeVar("T")


def client_address() -> str:
    # With TRUSTED_PROXIES set, ProxyFix has already put the real client address here.
    return request.remote_addr or "unknown"


def user_key() -> str:
    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return client_address()


def form_email_key() -> str:
    """The e-mail address a form names, counted as the accounts count addresses: the normal
    form of webapp.accounts.identity.normalise_email (repeated here, as core imports no
    feature), so `Alice@Example.COM` and `alice@example.com` are one counter. Text that is not
    an address counts as typed, lower-cased. Hashed: the counters (in Redis) hold no
    addresses."""
    raw = request.form.get("email", "").strip()
    try:
        address = validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        address = raw.lower()
    return "email:" + hashlib.sha256(address.encode()).hexdigest()


def setting(name: str) -> Callable[[], str]:
    return lambda: current_app.config[name]


POSTS_LIMIT: dict[str, Any] = {
    "limit_value": setting("RATELIMIT_POSTS_PER_USER"),
    "key_func": user_key,
    "methods": ["POST"],
    "scope": "posts",
    "shared": True,
    "error_message": "You are posting very fast.",
}

# endpoint -> its limits. Each is Flask-Limiter's `limit()` arguments (`shared_limit()`'s with
# "shared": True); the limit itself is read from the config at request time, so deployments
# and tests can change it.
ROUTE_LIMITS: dict[str, list[dict[str, Any]]] = {
    "auth.register": [
        {
            "limit_value": setting("RATELIMIT_REGISTER_PER_ADDRESS"),
            "key_func": client_address,
            "methods": ["POST"],
            "scope": "register",
            "error_message": "Too many registrations from your network.",
        }
    ],
    # Comments and replies: one limit, one counter ("shared": the scope names the bucket,
    # not the endpoint).
    "feed.new_post": [POSTS_LIMIT],
    "threads.reply": [POSTS_LIMIT],
    # Each request mails someone: per client address, and per address asked about (so no
    # inbox is flooded from many networks). Unknown addresses count the same as known
    # ones, so a refusal tells nothing about which addresses have accounts.
    "recovery.request_reset": [
        {
            "limit_value": setting("RATELIMIT_RESET_PER_ADDRESS"),
            "key_func": client_address,
            "methods": ["POST"],
            "scope": "reset-address",
            "error_message": "Too many password reset requests from your network.",
        },
        {
            "limit_value": setting("RATELIMIT_RESET_PER_EMAIL"),
            "key_func": form_email_key,
            "methods": ["POST"],
            "scope": "reset-email",
            "error_message": "Too many password reset requests for this address.",
        },
    ],
    "settings.resend_confirmation": [
        {
            "limit_value": setting("RATELIMIT_CONFIRMATION_PER_USER"),
            "key_func": user_key,
            "methods": ["POST"],
            "scope": "confirmation",
            "error_message": "Too many confirmation e-mails in a short time.",
        }
    ],
    # Also bounds guesses at the current password, which the form asks for.
    "settings.email": [
        {
            "limit_value": setting("RATELIMIT_EMAIL_CHANGE_PER_USER"),
            "key_func": user_key,
            "methods": ["POST"],
            "scope": "email-change",
            "error_message": "Too many address changes in a short time.",
        }
    ],
    # Forms that check the current password: a stolen session must not become a way to
    # guess it at full speed.
    "settings.password": [
        {
            "limit_value": setting("RATELIMIT_PASSWORD_CHECKS_PER_USER"),
            "key_func": user_key,
            "methods": ["POST"],
            "scope": "password-change",
            "error_message": "Too many password changes in a short time.",
        }
    ],
    "settings.delete_account": [
        {
            "limit_value": setting("RATELIMIT_PASSWORD_CHECKS_PER_USER"),
            "key_func": user_key,
            "methods": ["POST"],
            "scope": "account-deletion",
            "error_message": "Too many attempts to delete the account in a short time.",
        }
    ],
}


@dataclass(frozen=True)
class DirectLimit:
    """A limit counted with one direct call to `limits` (see `counted`)."""

    setting: str
    scope: str
    message: str


# endpoint -> its limit, per user, counted by `counted` rather than by Flask-Limiter: the
# views that are hot enough for Flask-Limiter's own per-request work to show.
DIRECT_LIMITS: dict[str, DirectLimit] = {
    # Hovering is reading: generous, but a script cannot walk every profile at full speed.
    "users.popup": DirectLimit(
        "RATELIMIT_CARDS_PER_USER", "cards", "Too many profile cards in a short time."
    ),
}


def init_app(app: Flask) -> None:
    """A Limiter of this app's own (Flask-Limiter keeps its first app's settings for good,
    so a module-wide one would carry one app's storage into the next), wrapped around the
    views named in ROUTE_LIMITS; `counted` around those in DIRECT_LIMITS."""
    limiter = Limiter(key_func=client_address, app=app)
    app.extensions[EXTENSION_KEY] = limiter
    for endpoint, limits in ROUTE_LIMITS.items():
        view = app.view_functions[endpoint]
        for arguments in limits:
            arguments = dict(arguments)
            decorator = limiter.shared_limit if arguments.pop("shared", False) else limiter.limit
            view = decorator(**arguments)(view)
        app.view_functions[endpoint] = view
    for endpoint, direct_limit in DIRECT_LIMITS.items():
        app.view_functions[endpoint] = counted(direct_limit)(app.view_functions[endpoint])
    if not any(app.config.get(name) for name in APP_WIDE_LIMIT_SETTINGS):
        # Flask-Limiter checks every request, before its view, for default and app-wide
        # limits. This app has none unless a deployment sets them (the settings below), and
        # its decorated views count their own limits in their wrapper, so the check only
        # costs time: about 60 µs of every request, measured by bench.profile
        # (docs/performance.md). With either setting present it stays. With
        # RATELIMIT_ENABLED false, Flask-Limiter never registered it.
        checks = app.before_request_funcs[None]
        if limiter._check_request_limit in checks:
            checks.remove(limiter._check_request_limit)


#: Flask-Limiter's settings for limits on every request, which need its before-request check.
APP_WIDE_LIMIT_SETTINGS = ("RATELIMIT_DEFAULT", "RATELIMIT_APPLICATION")


@lru_cache(maxsize=64)
def parsed_limits(value: str) -> tuple[RateLimitItem, ...]:
    """ "300 per minute; 5000 per day" as `limits` items, parsed once per distinct value."""
    return tuple(parse_many(value))


def counted(direct_limit: DirectLimit) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Count each request to the view, per user (per address when logged out), and refuse
    it with Throttled over the limit.

    One fixed-window `hit` per limit in the limiter's storage (Redis, or memory), through
    `count()`, so storage failures behave as for every other limit. Flask-Limiter's
    decorator did the same count plus its per-request bookkeeping (resolving the view's
    limits, exemptions, blueprint scopes, context objects, response headers): 19 % of a
    card's time in-process (bench.profile, docs/performance.md). The refusal is the same
    429 page with Retry-After; the X-RateLimit-* headers are not sent on these views.
    """

    def decorator(view: Callable[..., T]) -> Callable[..., T]:
        @wraps(view)
        def limited_view(*args: Any, **kwargs: Any) -> T:
            items = parsed_limits(current_app.config[direct_limit.setting])
            identifiers = (
                current_app.config["RATELIMIT_KEY_PREFIX"],
                direct_limit.scope,
                user_key(),
            )

            def hit(counters: FixedWindowRateLimiter) -> int | None:
                for item in items:
                    if not counters.hit(item, *identifiers):
                        stats = counters.get_window_stats(item, *identifiers)
                        return seconds_until(stats.reset_time)
                return None

            refused_for = count(hit)
            if refused_for is not None:
                raise Throttled(direct_limit.message, refused_for)
            return view(*args, **kwargs)

        return limited_view

    return decorator


class Throttled(TooManyRequests):
    """Refused by a limit the app counts itself (through `count()`); rendered like
    Flask-Limiter's own refusals, with `retry_after` in seconds."""

    def __init__(self, description: str, retry_after: int) -> None:
        super().__init__(description, retry_after=retry_after)
        self.seconds = retry_after


def count(operation: Callable[[FixedWindowRateLimiter], T]) -> T | None:
    """Run `operation` on fixed-window counters in the limiter's storage.

    That is Redis when configured, or this process's memory while Redis does not answer: the
    same in-memory fallback Flask-Limiter switches to for its decorated limits, so both
    switch, and come back (Flask-Limiter probes Redis on later requests), together. Fixed
    windows whatever RATELIMIT_STRATEGY says: a hit is one atomic increment and can be given
    back with a negative one. None when nothing can count (limiter disabled, or storage
    failing with no fallback): a limit that cannot be counted lets the request through.
    """
    limiter: Limiter = current_app.extensions[EXTENSION_KEY]
    if not limiter.enabled:
        return None
    try:
        return operation(FixedWindowRateLimiter(limiter.limiter.storage))
    # Whatever the storage's client raises (Flask-Limiter catches as widely, for the same
    # reason: no storage error may refuse or fail a request).
    except Exception:
        # Private attributes of Flask-Limiter 4.1 (pinned): it has no public switch.
        if limiter._storage_dead or not limiter._in_memory_fallback_enabled:
            limiter.logger.exception("Rate limit storage failed: this request is not counted")
            return None
    limiter.logger.warning("Rate limit storage unreachable - falling back to in-memory storage")
    limiter._storage_dead = True
    return operation(FixedWindowRateLimiter(limiter.limiter.storage))


def seconds_until(reset_at: float) -> int:
    return max(1, math.ceil(reset_at - time.time()))


def retry_after_seconds(error: TooManyRequests) -> int | None:
    """Seconds until the limit that refused this request lets requests through again."""
    if isinstance(error, Throttled):
        return error.seconds
    current = current_app.extensions[EXTENSION_KEY].current_limit
    if current is None:
        return None
    return seconds_until(current.reset_at)


def in_words(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    return f"{round(seconds / 60)} minutes"


def refusal_message(description: str, seconds: int | None) -> str:
    when = f"in {in_words(seconds)}" if seconds else "a little later"
    return f"{description} Please try again {when}."
