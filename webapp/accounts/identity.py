"""What makes two usernames or two e-mail addresses the same."""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError
from email_validator import validate_email

from webapp.accounts.models import USERNAME_MAX_LENGTH

USERNAME_MIN_LENGTH = 3
# Checked after NFKC, so full-width and other compatibility forms of these characters are
# accepted and become plain ones. Other scripts are refused: look-alike letters from two
# alphabets would give two accounts one visible name.
USERNAME_PATTERN = re.compile(r"[A-Za-z0-9_]+")


def display_username(raw: str) -> str:
    """The name as it will be shown: NFKC-normalised, case kept."""
    return unicodedata.normalize("NFKC", raw.strip())


def canonical_username(raw: str) -> str:
    """The identity of a name: `Alice`, `alice` and `ａｌｉｃｅ` are one name."""
    return display_username(raw).casefold()


# Characters a reader cannot tell apart in many fonts, folded to one representative. Applied
# after casefold, so `I` is already `i`.
CONFUSABLES = str.maketrans({"i": "l", "1": "l", "|": "l", "0": "o"})


def username_skeleton(raw: str) -> str:
    """What a name looks like: `alice`, `aIice` and `a1ice` share one skeleton, and only
    one account may have it."""
    return canonical_username(raw).translate(CONFUSABLES)


def username_problem(raw: str) -> str | None:
    """Why this cannot be a username, in words for the form; None when it can."""
    name = display_username(raw)
    if not USERNAME_MIN_LENGTH <= len(name) <= USERNAME_MAX_LENGTH:
        return f"Usernames are {USERNAME_MIN_LENGTH} to {USERNAME_MAX_LENGTH} characters long."
    if not USERNAME_PATTERN.fullmatch(name):
        return "Use only letters (a-z), digits and underscores."
    return None


def could_be_username(raw: str) -> bool:
    """Whether any account could have this name. Look-ups ask this first: a name that
    cannot exist needs no query, and PostgreSQL refuses some of them (NUL) outright."""
    return username_problem(raw) is None


class InvalidEmail(ValueError):
    pass


def normalise_email(raw: str) -> str:
    """email-validator's normal form, lower-cased; raises InvalidEmail with a readable reason.

    No DNS look-up: registration must not depend on the network, and a typo'd domain is the
    user's to find when the mail does not arrive.
    """
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidEmail(str(error)) from None
    return result.normalized.lower()
