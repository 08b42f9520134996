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


# Characters that change how text around them reads without being seen: bidi embeddings,
# overrides and isolates (which can reverse a link or a name, "Trojan Source"), zero-width
# spaces, joiners and marks, line/paragraph separators, the BOM, and the Hangul fillers that
# render as blanks. U+200D (ZERO WIDTH JOINER) is in the range too, so emoji sequences joined
# by it (👩‍💻) are refused as well: the rule is the whole range, as the security checklist asks.
INVISIBLE_CHARACTERS = frozenset(
    [
        *map(chr, range(0x202A, 0x202F)),  # LRE, RLE, PDF, LRO, RLO
        *map(chr, range(0x2066, 0x206A)),  # LRI, RLI, FSI, PDI
        *map(chr, range(0x200B, 0x2010)),  # ZWSP, ZWNJ, ZWJ, LRM, RLM
        "\u2028",  # LINE SEPARATOR
        "\u2029",  # PARAGRAPH SEPARATOR
        "\ufeff",  # ZERO WIDTH NO-BREAK SPACE (byte order mark)
        "\u3164",  # HANGUL FILLER
        "\u115f",  # HANGUL CHOSEONG FILLER
        "\u1160",  # HANGUL JUNGSEONG FILLER
    ]
)


def invisible_character_problem(text: str) -> str | None:
    """The form error for the first invisible or text-direction character; None if none."""
    for char in text:
        if char in INVISIBLE_CHARACTERS:
            name = unicodedata.name(char, "unnamed")
            return f"Remove the invisible or text-direction character U+{ord(char):04X} ({name})."
    return None
