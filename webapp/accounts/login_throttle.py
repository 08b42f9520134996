"""Login limits: count first, then check the password.

Each attempt is counted before its password is checked: `hit` is one atomic increment (in
Redis, or in memory), so however many workers take attempts at once, no more passwords are
checked than a limit allows. (Flask-Limiter's `deduct_when` tests, lets the view run, then
counts: N workers could all pass the test together.) Counted, per attempt:

- failures per client address, for everyone (RATELIMIT_LOGIN_PER_ADDRESS);
- failures per device when the browser presents a valid device cookie for the account
  (RATELIMIT_LOGIN_PER_DEVICE), otherwise per account (RATELIMIT_LOGIN_PER_ACCOUNT):
  strangers share the account's budget and each of the owner's browsers has its own, so
  strangers cannot lock the owner out, and a device over its limit is refused on its own;
- successes per account (RATELIMIT_LOGIN_SUCCESS_PER_ACCOUNT), counted before the password
  is hashed and given back when it was wrong, so a known password cannot be replayed to
  burn CPU.

An attempt over any limit is refused (429) without checking its password, and every count it
made is given back (a negative increment); a right password gives back its failure counts, a
wrong one its success count. The counters hold failures and successes only, plus attempts in
progress.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItem
from limits.strategies import FixedWindowRateLimiter

from webapp.accounts.device_cookies import device_nonce
from webapp.accounts.identity import canonical_username
from webapp.core.throttling import Throttled
from webapp.core.throttling import client_address
from webapp.core.throttling import count
from webapp.core.throttling import parsed_limits
from webapp.core.throttling import seconds_until

ADDRESS_MESSAGE = "Too many failed logins from your network."
ACCOUNT_MESSAGE = "Too many failed logins for this account."
DEVICE_MESSAGE = "Too many failed logins for this account from this browser."
SUCCESS_MESSAGE = "Too many logins for this account."

#: Longer typed names are cut for the counter's key (the form allows 4x a username's length).
MAX_NAME_IN_KEY = 120


@dataclass(frozen=True)
class Limit:
    """One limit setting applied to one subject (an address, an account, a device)."""

    setting: str
    scope: str
    subject: str
    message: str

    def items(self) -> tuple[RateLimitItem, ...]:
        # Read at request time, so deployments and tests can change the setting.
        return parsed_limits(current_app.config[self.setting])

    def identifiers(self) -> tuple[str, ...]:
        return (current_app.config["RATELIMIT_KEY_PREFIX"], self.scope, self.subject)


@dataclass(frozen=True)
class Hit:
    limit: Limit
    item: RateLimitItem


def give_back(counters: FixedWindowRateLimiter, hits: list[Hit]) -> None:
    for hit in hits:
        key = hit.item.key_for(*hit.limit.identifiers())
        left = counters.storage.incr(key, hit.item.get_expiry(), amount=-1)
        if left < 0:
            # The window ended between the hit and now, so this decrement started a new
            # one at -1, which would be a free failure: bring it back up to zero.
            counters.storage.incr(key, hit.item.get_expiry(), amount=-left)


def retry_after(counters: FixedWindowRateLimiter, hit: Hit) -> int:
    stats = counters.get_window_stats(hit.item, *hit.limit.identifiers())
    return seconds_until(stats.reset_time)


@dataclass(frozen=True)
class Refusal:
    message: str
    seconds: int


@dataclass
class LoginAttempt:
    """An attempt counted both as a failure and as a success until its password is checked;
    `succeeded()` or `failed()` then gives back the count that did not happen."""

    failure_hits: list[Hit]
    success_hits: list[Hit]

    def succeeded(self) -> None:
        """The password was right: its failure counts were not failures."""
        count(lambda counters: give_back(counters, self.failure_hits))

    def failed(self) -> None:
        """The password was wrong: it was not a login."""
        count(lambda counters: give_back(counters, self.success_hits))


def failure_limits(account: str) -> list[Limit]:
    """Per address for everyone; then per device for a browser that has logged into the
    account (a valid device cookie for it), per account for any other."""
    failed = "login-failed"
    address = f"address:{client_address()}"
    limits = [Limit("RATELIMIT_LOGIN_PER_ADDRESS", failed, address, ADDRESS_MESSAGE)]
    nonce = device_nonce(account)
    if nonce is not None:
        limits.append(
            Limit("RATELIMIT_LOGIN_PER_DEVICE", failed, f"device:{nonce}", DEVICE_MESSAGE)
        )
    else:
        limits.append(
            Limit("RATELIMIT_LOGIN_PER_ACCOUNT", failed, f"account:{account}", ACCOUNT_MESSAGE)
        )
    return limits


def start_attempt(username: str) -> LoginAttempt:
    """Count a login attempt for `username` (as typed). Raises Throttled, before any password
    is checked, when the attempt is over a limit."""
    account = canonical_username(username)[:MAX_NAME_IN_KEY]
    failures = failure_limits(account)
    successes = Limit(
        "RATELIMIT_LOGIN_SUCCESS_PER_ACCOUNT",
        "login-succeeded",
        f"account:{account}",
        SUCCESS_MESSAGE,
    )
    failure_hits: list[Hit] = []
    success_hits: list[Hit] = []

    def count_attempt(counters: FixedWindowRateLimiter) -> Refusal | None:
        failure_hits.clear()  # a retry on the in-memory fallback starts over
        success_hits.clear()
        over: list[Hit] = []
        # Successes are counted first too (not tested, then counted after): concurrent right
        # passwords cannot all slip through at the limit.
        for limit, hits in [
            *((limit, failure_hits) for limit in failures),
            (successes, success_hits),
        ]:
            for item in limit.items():
                hit = Hit(limit, item)
                hits.append(hit)
                if not counters.hit(item, *limit.identifiers()):
                    over.append(hit)
        if not over:
            return None
        give_back(counters, failure_hits + success_hits)
        # Several limits over: name the one that lasts longest, which is when a retry works.
        waits = [(retry_after(counters, hit), hit.limit.message) for hit in over]
        seconds, message = max(waits)
        return Refusal(message, seconds)

    refusal = count(count_attempt)
    if refusal is not None:
        raise Throttled(refusal.message, refusal.seconds)
    return LoginAttempt(failure_hits, success_hits)
