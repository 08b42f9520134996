"""Signed, expiring links for e-mails: reset a password, confirm an address, change it.

Nothing is stored: a token carries the user id and a fingerprint of the account state it was
made for, signed with SECRET_KEY (itsdangerous). When that state changes, the token dies:
- a reset token is bound to the password hash, so it works once (using it changes the hash)
  and no longer after any other password change; and to the address it was mailed to, so
  a link sent to an address the account has since left opens nothing;
- a confirmation token is bound to the address it confirms;
- an address-change token is bound to the current address, so it works once (using it
  changes the address) and dies if the address changes another way; and to the password
  hash, so an owner who finds someone else asked for a change (the notice says so) stops it
  by changing the password.
Each purpose has its own salt: a token for one is worthless for another.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeTimedSerializer

from webapp.accounts.models import User
from webapp.accounts.request_user import Account
from webapp.core.extensions import db


@dataclass(frozen=True)
class Purpose:
    name: str
    lifetime: timedelta
    #: The account state a token is bound to: the token works while this stays the same.
    state: Callable[[User], str]


def password_and_address(user: User) -> str:
    return f"{user.password_hash}\n{user.email}"


def address(user: User) -> str:
    return user.email


RESET_PASSWORD = Purpose("reset-password", timedelta(minutes=30), password_and_address)
CONFIRM_EMAIL = Purpose("confirm-email", timedelta(hours=48), address)
CHANGE_EMAIL = Purpose("change-email", timedelta(minutes=30), password_and_address)


class InvalidToken(Exception):
    """The link cannot be used; `expired` tells an old link from a forged or used one."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def fingerprint(value: str) -> str:
    # Keyed, so the token (readable by anyone who has it) reveals nothing of the hash.
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:32]


def serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(
        current_app.config["SECRET_KEY"], salt=f"hoverfeed.{purpose.name}"
    )


def make_token(purpose: Purpose, user: Account, **extra: Any) -> str:
    payload = {"user": user.id, "state": fingerprint(purpose.state(user)), **extra}
    return serializer(purpose).dumps(payload)


@dataclass(frozen=True)
class TokenUse:
    user: User
    payload: dict[str, Any]


def read_token(purpose: Purpose, token: str) -> TokenUse:
    """The user and payload of a valid token (one of ours, for this purpose, not expired,
    and its account still in the state it was made for), or InvalidToken."""
    try:
        payload = serializer(purpose).loads(token, max_age=int(purpose.lifetime.total_seconds()))
    except SignatureExpired:
        raise InvalidToken(expired=True) from None
    except BadSignature:
        raise InvalidToken() from None
    if not isinstance(payload, dict) or not isinstance(payload.get("user"), int):
        raise InvalidToken()
    user = db.session.get(User, payload["user"])
    if user is None:
        raise InvalidToken()
    expected = fingerprint(purpose.state(user))
    if not hmac.compare_digest(str(payload.get("state", "")), expected):
        raise InvalidToken()
    return TokenUse(user, payload)
