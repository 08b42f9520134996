"""Rules shared by every free-text field (comments, about-me)."""

from __future__ import annotations

import unicodedata

# Line breaks are part of a text; every other control character (NUL, tab, escape...) is
# refused: PostgreSQL rejects NUL outright, and the rest only ever hide or garble text.
ALLOWED_CONTROL_CHARACTERS = frozenset("\n")


def clean_text(raw: str | None) -> str:
    """Line endings made uniform and outer whitespace trimmed: what is stored and counted."""
    return (raw or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def has_control_characters(text: str) -> bool:
    return any(
        unicodedata.category(char) == "Cc" and char not in ALLOWED_CONTROL_CHARACTERS
        for char in text
    )


CONTROL_CHARACTERS_MESSAGE = "Remove the control characters (such as tabs or NUL)."
