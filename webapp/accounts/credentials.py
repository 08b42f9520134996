"""Creating accounts and checking credentials."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from webapp.accounts.identity import InvalidEmail
from webapp.accounts.identity import canonical_username
from webapp.accounts.identity import could_be_username
from webapp.accounts.identity import display_username
from webapp.accounts.identity import normalise_email
from webapp.accounts.identity import username_skeleton
from webapp.accounts.models import User
from webapp.accounts.passwords import dummy_hash
from webapp.accounts.passwords import hash_password
from webapp.accounts.passwords import needs_rehash
from webapp.accounts.passwords import verify_password
from webapp.accounts.request_user import Account
from webapp.core.extensions import db
from webapp.core.timeutil import utcnow

# Also said of a name that only looks like a taken one (aIice for alice): to a reader they
# are the same name.
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


def taken_fields(username: str, email: str) -> dict[str, str]:
    errors = {}
    name_taken = exists().where(
        (User.username_canon == canonical_username(username))
        | (User.username_skeleton == username_skeleton(username))
    )
    if db.session.scalar(select(name_taken)):
        errors["username"] = USERNAME_TAKEN
    if db.session.scalar(select(exists().where(User.email == email))):
        errors["email"] = EMAIL_TAKEN
    return errors


def register_user(username: str, email: str, password: str) -> User:
    """Create the account, or raise AccountTaken.

    The look-up first gives friendly errors for both fields at once; the unique constraints
    decide when two registrations race, and the loser gets the same errors, not a 500.
    """
    email = normalise_email(email)
    errors = taken_fields(username, email)
    if errors:
        raise AccountTaken(errors)
    user = User(
        username=display_username(username),
        username_canon=canonical_username(username),
        username_skeleton=username_skeleton(username),
        email=email,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise AccountTaken(taken_fields(username, email) or {"username": USERNAME_TAKEN}) from None
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


def find_by_email(raw: str) -> User | None:
    try:
        email = normalise_email(raw)
    except InvalidEmail:
        return None
    return db.session.scalar(select(User).where(User.email == email))


def set_password(user: User, password: str) -> None:
    """Store a new password hash (the caller commits, and ends sessions as the case needs)."""
    user.password_hash = hash_password(password)


def replace_password(user: User, password: str) -> bool:
    """Store a new password hash only if the stored one is still the one this request read;
    False when another request changed it first. A reset link is single-use because it is
    bound to the hash: two requests racing with one link must not both get through (on
    PostgreSQL the second UPDATE waits for the first, then finds the hash changed)."""
    new_hash = hash_password(password)
    changed = db.session.execute(
        update(User)
        .where(User.id == user.id, User.password_hash == user.password_hash)
        .values(password_hash=new_hash)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        return False
    set_committed_value(user, "password_hash", new_hash)
    return True


def password_matches(user: Account, password: str) -> bool:
    return verify_password(user.password_hash, password)


def mark_email_confirmed(user: User) -> None:
    if user.email_confirmed_at is None:
        user.email_confirmed_at = utcnow()


class EmailTaken(Exception):
    pass


class AddressChanged(Exception):
    """The account's address changed since the link was read (the link was just used)."""


def change_email(user: User, new_email: str) -> None:
    """Make `new_email` the account's address, confirmed (its owner followed the link that
    was sent to it). Only if the address is still the one the link was bound to, so two
    requests racing with one link change it once (AddressChanged for the other). Raises
    EmailTaken when another account got the address meanwhile."""
    try:
        changed = db.session.execute(
            update(User)
            .where(User.id == user.id, User.email == user.email)
            .values(email=new_email, email_confirmed_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if changed != 1:
            db.session.rollback()
            raise AddressChanged()
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise EmailTaken(EMAIL_TAKEN) from None
    db.session.expire(user)


def email_in_use(email: str) -> bool:
    return bool(db.session.scalar(select(exists().where(User.email == email))))
