"""Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device Cookies").

A browser that has logged into an account carries a signed note of it. Its later login
attempts for that account are counted per device instead of against the account-wide
lockout (webapp/accounts/login_throttle.py), so strangers guessing a password cannot lock
the owner out of the browsers they already use.

The cookie names up to MAX_ACCOUNTS accounts (canonical usernames), each with a random nonce,
which names that device's own failure counter, and the time it was issued. It is signed with
SECRET_KEY under a salt of its own, so no other value the app signs can pass for it, and
nothing is stored on the server. It is sent to the login page only.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from flask import Response
from flask import current_app
from flask import request
from flask import url_for
from itsdangerous import BadSignature
from itsdangerous import URLSafeSerializer

COOKIE_NAME = "hoverfeed_device"
SALT = "hoverfeed.device-cookie"
#: How long a browser stays known after its last successful login into the account.
LIFETIME_SECONDS = 365 * 24 * 3600
#: Accounts one browser is remembered for (a shared family computer, a few roles); the one
#: logged into longest ago is forgotten first.
MAX_ACCOUNTS = 5


@dataclass(frozen=True)
class Device:
    account: str  # canonical username
    nonce: str
    issued_at: int  # Unix time


def serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def parse(entry: object) -> Device | None:
    # A signed value is ours, but possibly from an older release: check its shape anyway.
    if not (isinstance(entry, list) and len(entry) == 3):
        return None
    account, nonce, issued_at = entry
    if not (isinstance(account, str) and isinstance(nonce, str) and isinstance(issued_at, int)):
        return None
    return Device(account, nonce, issued_at)


def presented_devices() -> list[Device]:
    """The live accounts of this browser's device cookie; none when it is missing, forged
    or tampered with."""
    raw = request.cookies.get(COOKIE_NAME)
    if not raw:
        return []
    try:
        entries = serializer().loads(raw)
    except BadSignature:
        return []
    if not isinstance(entries, list):
        return []
    oldest = time.time() - LIFETIME_SECONDS
    devices = [device for device in map(parse, entries[:MAX_ACCOUNTS]) if device]
    return [device for device in devices if device.issued_at > oldest]


def device_nonce(account: str) -> str | None:
    """This browser's nonce for `account` (a canonical username) when it presents a valid
    device cookie for it; otherwise None, and it is a stranger to the account."""
    return next((d.nonce for d in presented_devices() if d.account == account), None)


def remember_device(response: Response, account: str) -> None:
    """After a successful login into `account`: put it in this browser's device cookie (its
    nonce kept if it had one, so the device's failure count stays its own), newest first."""
    devices = presented_devices()
    nonce = next((d.nonce for d in devices if d.account == account), None)
    current = Device(account, nonce or secrets.token_urlsafe(16), int(time.time()))
    others = [d for d in devices if d.account != account]
    kept = [current, *others][:MAX_ACCOUNTS]
    value = serializer().dumps([[d.account, d.nonce, d.issued_at] for d in kept])
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=LIFETIME_SECONDS,
        path=url_for("auth.login"),
        httponly=True,
        secure=current_app.config["SESSION_COOKIE_SECURE"],
        samesite="Lax",
    )
