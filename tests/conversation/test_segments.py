"""Cutting a text into segments: where mentions and web addresses start and end."""

from __future__ import annotations

import pytest

from webapp.conversation.links import find_links
from webapp.conversation.links import short_label
from webapp.conversation.segments import Link
from webapp.conversation.segments import Mention
from webapp.conversation.segments import Text
from webapp.conversation.segments import mentioned_names
from webapp.conversation.segments import segment

# The usernames a text mentioned when it was saved, of accounts that still exist.
ACCOUNTS = frozenset({"Bob", "carol_2", "dan"})


# Mentions -----------------------------------------------------------------------------------


def marked(segments: list) -> str:
    """The text with each mention shown as [username] and each link as <url|label>."""
    shown = {
        "text": lambda part: part.text,
        "mention": lambda part: f"[{part.username}]",
        "link": lambda part: f"<{part.url}|{part.label}>",
    }
    return "".join(shown[part.kind](part) for part in segments)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@bob", "@[Bob]"),
        ("hi @bob!", "hi @[Bob]!"),
        ("@BOB and @Carol_2.", "@[Bob] and @[carol_2]."),
        # Punctuation after a name is not part of it.
        (
            "@bob, @bob. @bob! @bob? @bob: @bob; @bob)",
            "@[Bob], @[Bob]. @[Bob]! @[Bob]? @[Bob]: @[Bob]; @[Bob])",
        ),
        ("(@bob) [@bob] '@bob' \"@bob\"", "(@[Bob]) [@[Bob]] '@[Bob]' \"@[Bob]\""),
        ("@bob's idea", "@[Bob]'s idea"),
        ("@bob-and-dan", "@[Bob]-and-dan"),
        ("@bob…", "@[Bob]…"),
        ("line one\n@bob\nline three", "line one\n@[Bob]\nline three"),
    ],
)
def test_mentions_of_existing_accounts_become_mentions(text: str, expected: str) -> None:
    assert marked(segment(text, ACCOUNTS)) == expected


def test_segments_are_text_and_mentions_in_order() -> None:
    assert segment("hi @bob!", ACCOUNTS) == (Text("hi @"), Mention("Bob"), Text("!"))


@pytest.mark.parametrize(
    "text",
    [
        "a@bob.com",  # an e-mail address
        "write to bob@bob.com",
        "@@bob",  # a doubled @
        "x@bob",  # glued to a word
        "_@bob",
        "1@bob",
        "é@bob",  # glued to a word in any script
        "@<script>alert(1)</script>",
        "@",
        "@ bob",
        "@bobé",  # a letter usernames cannot have: not a mention of bob
        "@bob@example.com",  # someone elsewhere, not our bob
        "@ghost",  # no such account
        "@bo",  # too short to be a username
        "@" + "b" * 31,  # too long to be one
        "@ｂｏｂ",  # full-width letters: not the ASCII usernames are made of
    ],
)
def test_what_is_not_a_mention_stays_text(text: str) -> None:
    assert segment(text, ACCOUNTS) == (Text(text),)


def test_a_name_that_was_not_an_account_when_saved_stays_text() -> None:
    """Whether `@name` is a link was settled when the text was saved: the page passes only
    the accounts resolved then (and still there)."""
    assert segment("@bob and @dan", frozenset({"dan"})) == (Text("@bob and @"), Mention("dan"))
    assert segment("@bob and @dan") == (Text("@bob and @dan"),)


def test_mentioned_names_are_canonical_and_found_by_the_same_rules() -> None:
    text = "@Bob @BOB @carol_2, a@dan.com @@eve @frank! http://x.example/@grace @hi"
    assert mentioned_names(text) == {"bob", "carol_2", "frank"}
    assert mentioned_names("no at sign here") == set()


def test_a_mention_inside_a_web_address_is_part_of_the_address() -> None:
    text = "see https://social.example/@bob and @bob"
    assert segment(text, ACCOUNTS) == (
        Text("see "),
        Link("https://social.example/@bob", "social.example/@bob"),
        Text(" and @"),
        Mention("Bob"),
    )
    assert mentioned_names(text) == {"bob"}


def test_links_off_keeps_addresses_as_text_and_still_out_of_mentions() -> None:
    text = "https://social.example/@bob and @bob"
    assert segment(text, ACCOUNTS, links=False) == (
        Text("https://social.example/@bob and @"),
        Mention("Bob"),
    )


def test_plain_text_is_one_segment() -> None:
    assert segment("Just shipped keyset pagination.", ACCOUNTS) == (
        Text("Just shipped keyset pagination."),
    )


# Web addresses ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "urls"),
    [
        ("http://example.com", ["http://example.com"]),
        ("https://example.com/a/b?c=1&d=2#e", ["https://example.com/a/b?c=1&d=2#e"]),
        ("HTTPS://EXAMPLE.COM/Path", ["HTTPS://EXAMPLE.COM/Path"]),
        ("before:https://example.com/x", ["https://example.com/x"]),
        ("(see https://example.com/x)", ["https://example.com/x"]),
        ("https://example.com/x.", ["https://example.com/x"]),
        ("https://example.com/x, and https://example.org/y!", None),
        ("https://example.com/x?", ["https://example.com/x"]),
        ("https://example.com/x: yes", ["https://example.com/x"]),
        ("https://example.com/a:b", ["https://example.com/a:b"]),
        ("http://localhost:5000/user/bob", ["http://localhost:5000/user/bob"]),
        ('http://x.com/"><script>alert(1)</script>', ["http://x.com/"]),
        ("http://x.com/<img src=x onerror=alert(1)>", ["http://x.com/"]),
        ("http://x.com/it's", ["http://x.com/it's"]),
        ("'http://x.com/a'", ["http://x.com/a"]),
        ('"http://x.com/a"', ["http://x.com/a"]),
        ("<http://x.com/a>", ["http://x.com/a"]),
    ],
)
def test_web_addresses_are_found_without_the_punctuation_around_them(
    text: str, urls: list[str] | None
) -> None:
    found = [link.url for link in find_links(text)]
    if urls is None:
        assert found == ["https://example.com/x", "https://example.org/y"]
    else:
        assert found == urls
    for link in find_links(text):
        assert text[link.start : link.end] == link.url


@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "javascript://example.com/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        "ftp://example.com/file",
        "mailto:bob@example.com",
        "//example.com/protocol-relative",
        "example.com www.example.com",  # no scheme written: not guessed
        "texthttp://example.com",  # glued to a word
        "http://",
        "https:// example.com",
    ],
)
def test_only_http_and_https_become_links(text: str) -> None:
    assert find_links(text) == []
    assert segment(text, ACCOUNTS) == (Text(text),)


@pytest.mark.parametrize(
    ("url", "label"),
    [
        ("https://example.com", "example.com"),
        ("https://example.com/", "example.com"),
        ("http://Example.COM/Docs/", "example.com/Docs"),
        ("https://example.com/a/b", "example.com/a/b"),
        ("http://localhost:5000/x", "localhost:5000/x"),
        # A query or fragment is not shown; the ellipsis says there is more.
        ("https://example.com/search?q=hover", "example.com/search…"),
        ("https://example.com/page#part", "example.com/page…"),
        # The real host, not the user-info dressed up as one.
        ("https://bank.example@evil.example/login", "evil.example/login"),
        ("https://user:pass@example.com/", "example.com"),
        # Past 40 characters: the first 40 and an ellipsis.
        ("https://example.com/" + "a" * 20, "example.com/" + "a" * 20),
        ("https://example.com/" + "a" * 28, "example.com/" + "a" * 28),  # exactly 40
        ("https://example.com/" + "a" * 29, "example.com/" + "a" * 28 + "…"),
        ("https://example.com/" + "a" * 200 + "?q=1", "example.com/" + "a" * 28 + "…"),
    ],
)
def test_labels_show_host_and_path_shortened(url: str, label: str) -> None:
    assert short_label(url) == label
    assert len(label.rstrip("…")) <= 40


def test_links_and_mentions_together() -> None:
    text = "@bob read https://example.com/docs, then @dan wrote http://blog.example/post."
    assert segment(text, ACCOUNTS) == (
        Text("@"),
        Mention("Bob"),
        Text(" read "),
        Link("https://example.com/docs", "example.com/docs"),
        Text(", then @"),
        Mention("dan"),
        Text(" wrote "),
        Link("http://blog.example/post", "blog.example/post"),
        Text("."),
    )
