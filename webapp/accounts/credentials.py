"""Creating accounts and checking credentials."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.accounts.identity import canonical_username
from webapp.accounts.identity import could_be_username
from webapp.accounts.identity import display_username
from webapp.accounts.identity import normalise_email
from webapp.accounts.passwords import dummy_hash
from webapp.accounts.passwords import hash_password
from webapp.accounts.passwords import needs_rehash
from webapp.accounts.passwords import verify_password
from webapp.core.extensions import db
from webapp.models import User

USERNAME_TAKEN = "That username is taken. Please choose another."
EMAIL_TAKEN = "That email address is already registered."


@dataclass
class AccountTaken(Exception):
    """Registration refused: `errors` maps form fields to messages."""

    errors: dict[str, str]


def find_by_username(raw: str) -> User | None:
    if not could_be_username(raw):
        return None
    return db.session.scalar(select(User).where(User.username_canon == canonical_username(raw)))


def taken_fields(username_canon: str, email: str) -> dict[str, str]:
    errors = {}
    if db.session.scalar(select(exists().where(User.username_canon == username_canon))):
        errors["username"] = USERNAME_TAKEN
    if db.session.scalar(select(exists().where(User.email == email))):
        errors["email"] = EMAIL_TAKEN
    return errors


def register_user(username: str, email: str, password: str) -> User:
    """Create the account, or raise AccountTaken.

    The look-up first gives friendly errors for both fields at once; the unique constraints
    decide when two registrations race, and the loser gets the same errors, not a 500.
    """
    username_canon = canonical_username(username)
    email = normalise_email(email)
    errors = taken_fields(username_canon, email)
    if errors:
        raise AccountTaken(errors)
    user = User(
        username=display_username(username),
        username_canon=username_canon,
        email=email,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AccountTaken(
            taken_fields(username_canon, email) or {"username": USERNAME_TAKEN}
        ) from None
    return user


def authenticate(username: str, password: str) -> User | None:
    """The user these credentials belong to, or None.

    An unknown name costs one hash verification too (against a dummy hash), so response
    time does not tell which names exist.
    """
    user = find_by_username(username)
    password_ok = verify_password(user.password_hash if user else dummy_hash(), password)
    if user is None or not password_ok:
        return None
    if needs_rehash(user.password_hash):
        # The hashing parameters were raised since this hash was made.
        user.password_hash = hash_password(password)
        db.session.commit()
    return user
