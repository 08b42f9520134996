"""Password hashing (argon2id) and the rules a new password must meet."""

from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from argon2.exceptions import VerificationError

PASSWORD_MIN_LENGTH = 8
# Long passphrases are welcome; the cap only keeps one request from buying seconds of
# hashing. argon2 itself has no length limit.
PASSWORD_MAX_LENGTH = 1024

# OWASP Password Storage Cheat Sheet, argon2id: m=19 MiB, t=2, p=1 is the minimum it
# recommends. A change here re-hashes each user's password at their next login.
hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

COMMON_PASSWORDS_FILE = Path(__file__).parent / "data" / "common-passwords.txt.gz"


@cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS_FILE, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def password_problem(password: str) -> str | None:
    """Why this password is refused, in words for the form; None when it is fine."""
    if len(password) < PASSWORD_MIN_LENGTH:
        return f"Use at least {PASSWORD_MIN_LENGTH} characters."
    if len(password) > PASSWORD_MAX_LENGTH:
        return f"Use at most {PASSWORD_MAX_LENGTH} characters."
    if password.strip().lower() in common_passwords():
        return "This password is too common; choose one that is harder to guess."
    return None


def hash_password(password: str) -> str:
    return hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher.check_needs_rehash(password_hash)


@cache
def dummy_hash() -> str:
    """A hash to verify against when the user does not exist, so that path costs the same."""
    return hasher.hash("not a password anyone has: the account does not exist")
