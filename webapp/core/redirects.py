"""Deciding whether a `next` target is one of our own pages."""

from __future__ import annotations

import unicodedata
from urllib.parse import urlsplit

# Control, format (zero-width and bidi marks) and separator characters: browsers strip or
# reinterpret them, which is how `/\t/evil.com` becomes `//evil.com`.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp"})


def is_safe_local_path(target: str | None) -> bool:
    """A path on this site: one leading `/`, no backslash, no scheme or host, no invisible
    or space characters. Checked as given, never normalised first: normalising is what lets
    a hostile value through."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target:
        return False
    if any(unicodedata.category(char) in _UNSAFE_CATEGORIES for char in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
