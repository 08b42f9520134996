"""Web addresses in comments: found by linkify-it-py, shown short, never trusted as HTML.

Only addresses written with `http://` or `https://` become links. A bare `example.com` may
as well be a file name, and every other scheme (`javascript:`, `data:`, `file:`,
`mailto:`...) stays text: the linkifier is told to know no other, and each address it finds
is checked again before it becomes a link. Where an address ends (before quotes, `<`,
closing punctuation) is the linkifier's well-tested business, not a regular expression here.
"""

from __future__ import annotations

from typing import NamedTuple
from urllib.parse import urlsplit

from linkify_it import LinkifyIt

LABEL_MAX_LENGTH = 40
ELLIPSIS = "…"
WEB_SCHEMES = ("http://", "https://")

# No guessing: an address counts only with its scheme written out.
LINKIFIER = LinkifyIt(options={"fuzzy_link": False, "fuzzy_email": False, "fuzzy_ip": False})
for _schema in ("ftp:", "//", "mailto:"):  # linkify-it's defaults besides http(s)
    LINKIFIER.add(_schema, None)
# linkify-it compiles its patterns on first use; do it now, before threads share it.
LINKIFIER.match("http://example.com")


class FoundLink(NamedTuple):
    start: int
    end: int
    url: str


def find_links(text: str) -> list[FoundLink]:
    """The http(s) addresses in `text`, in order, with where each starts and ends."""
    if "://" not in text:  # the cheap test every comment without an address takes
        return []
    found = []
    for match in LINKIFIER.match(text) or ():
        # The address as written. linkify-it ends it before closing punctuation, except a
        # colon: in "see http://x.com/a: it's good" a reader takes that as punctuation too.
        url = text[match.index : match.last_index].rstrip(":")
        if url.lower().startswith(WEB_SCHEMES):
            found.append(FoundLink(match.index, match.index + len(url), url))
    return found


def short_label(url: str) -> str:
    """What a link shows: host and path without the scheme, their first LABEL_MAX_LENGTH
    characters, and an ellipsis when anything is left out (the rest of a long path, a query,
    a fragment). The full address is in the link's title.

    The host is the real one: for `https://bank.example@evil.example/` the label says
    `evil.example`, not the user-info part dressed up as a host.
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # a malformed host (an unclosed IPv6 bracket): show what was written
        shown, hidden = url.split("://", 1)[-1], False
    else:
        host = parts.netloc.rpartition("@")[2].lower()
        path = parts.path.rstrip("/")
        shown, hidden = host + path, bool(parts.query or parts.fragment)
    cut = shown[:LABEL_MAX_LENGTH]
    return cut + ELLIPSIS if hidden or len(shown) > LABEL_MAX_LENGTH else cut
