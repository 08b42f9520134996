"""A stored text cut into segments a template can show safely: text, mentions, links.

Texts are stored as the user typed them and never become HTML here. A template shows each
text segment through autoescaping and builds each link from its parts, so nothing a user
writes is ever marked safe.

`@name` is a mention when it is not glued to a word or to another `@` (so `a@b.com` and
`@@name` are not mentions), the name is made of the characters usernames are (ASCII
letters, digits, underscore; punctuation after it is not part of it), and it does not sit
inside a web address. Whether it becomes a link is decided when the text is saved (see
mentions.py): `mentioned` holds the usernames of the accounts it mentioned that still exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import NamedTuple

from webapp.accounts.identity import canonical_username
from webapp.accounts.identity import could_be_username
from webapp.conversation.links import FoundLink
from webapp.conversation.links import find_links
from webapp.conversation.links import short_label

# Possessive (`++`): a name is all the name characters there are, never a shorter prefix of
# them, and `@bobé` (a letter usernames cannot have) is no mention of bob.
MENTION_PATTERN = re.compile(r"(?<![\w@])@([A-Za-z0-9_]++)(?![\w@])")
# Texts with a mention or an address, cut once and kept: the same ones are shown over and
# over (the newest comments to everyone), and finding addresses costs tens of microseconds
# a text, several times what showing it does. A couple of thousand short texts is a few MB.
CACHED_TEXTS = 2048


class Text(NamedTuple):
    text: str
    kind = "text"


class Mention(NamedTuple):
    """A mention of an account, shown as its username link (the `@` is the text before)."""

    username: str
    kind = "mention"


class Link(NamedTuple):
    url: str
    label: str
    kind = "link"


Segment = Text | Mention | Link


class FoundName(NamedTuple):
    start: int  # where the name starts, after its `@`
    end: int
    canonical: str


def segment(
    text: str, mentioned: frozenset[str] = frozenset(), links: bool = True
) -> tuple[Segment, ...]:
    """`text` as segments, in order. `mentioned` holds the usernames of the accounts the text
    mentions; other `@name`s stay text. With `links` off, web addresses stay text too (they
    still keep mentions out of themselves)."""
    if "@" not in text and "://" not in text:
        return (Text(text),)  # most texts: no need to look further
    return cut(text, mentioned, links)


@lru_cache(maxsize=CACHED_TEXTS)
def cut(text: str, mentioned: frozenset[str], links: bool) -> tuple[Segment, ...]:
    usernames = {canonical_username(name): name for name in mentioned}
    segments: list[Segment] = []
    done = 0  # everything before this offset is in `segments`
    for found in scan(text):
        if isinstance(found, FoundLink):
            if not links:
                continue
            made: Segment = Link(found.url, short_label(found.url))
        else:
            username = usernames.get(found.canonical)
            if username is None:
                continue
            made = Mention(username)
        if found.start > done:
            segments.append(Text(text[done : found.start]))
        segments.append(made)
        done = found.end
    if done < len(text):
        segments.append(Text(text[done:]))
    return tuple(segments)


def mentioned_names(text: str) -> set[str]:
    """The canonical names `text` mentions, whether or not such accounts exist."""
    if "@" not in text:
        return set()
    return {found.canonical for found in scan(text) if isinstance(found, FoundName)}


def scan(text: str) -> Iterator[FoundLink | FoundName]:
    """The web addresses and the names after an `@`, in order; none inside an address."""
    position = 0
    for link in find_links(text):
        yield from names(text, position, link.start)
        yield link
        position = link.end
    yield from names(text, position, len(text))


def names(text: str, start: int, end: int) -> Iterator[FoundName]:
    if text.find("@", start, end) < 0:
        return
    # Searching within [start, end) of the whole text, so the look-behind still sees the
    # character before `start`.
    for match in MENTION_PATTERN.finditer(text, start, end):
        name = match[1]
        if could_be_username(name):
            yield FoundName(match.start(1), match.end(1), canonical_username(name))
