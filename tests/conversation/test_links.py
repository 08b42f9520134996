"""Web addresses in comments, as pages show them: links that pass nothing on, short labels,
and hostile text that stays text."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import HTMX
from tests.conftest import add_posts
from tests.conftest import csrf_token
from tests.conftest import make_user
from tests.conversation.html import elements
from tests.conversation.html import post_body

REL = "nofollow ugc noopener noreferrer"


def shown_body(app: Flask, client: FlaskClient, body: str) -> str:
    """`body` as a comment in the feed (posted by bob), as markup."""
    add_posts(app, make_user(app, "bob"), [body])
    return post_body(client.get("/").get_data(as_text=True))


def links(html: str) -> list[dict[str, str]]:
    return elements(html, "a")


@pytest.mark.usefixtures("logged_in")
def test_an_address_becomes_a_link_that_passes_nothing_on(app: Flask, client: FlaskClient) -> None:
    url = "https://docs.example.org/en/stable/patterns/appfactories/index.html?highlight=1#top"
    body = shown_body(app, client, f"Read this: {url}. Worth it.")
    assert links(body) == [
        {
            "href": url,
            "rel": REL,
            "title": url,
            "text": "docs.example.org/en/stable/patterns/appf…",  # 40 and "…"
        }
    ]
    assert body.startswith('<p class="post-body">Read this: <a href=')
    assert body.endswith("</a>. Worth it.</p>")
    assert 'target="' not in body


def test_a_new_comment_from_htmx_shows_its_links(app: Flask, client: FlaskClient, logged_in: int):
    headers = {**HTMX, "X-CSRFToken": csrf_token(client, "/")}
    response = client.post("/", data={"body": "see http://example.com/a"}, headers=headers)
    [link] = [a for a in links(response.get_data(as_text=True)) if "rel" in a]
    assert link == {
        "href": "http://example.com/a",
        "rel": REL,
        "title": "http://example.com/a",
        "text": "example.com/a",
    }


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize(
    "text",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.cookie)",
        "javascript://example.com/%0aalert(1)",
        "data:text/html,<script>alert(1)</script>",
        "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        "mailto:bob@example.com",
        "ftp://example.com/",
        "//evil.example/x",
        "www.example.com and example.com",
    ],
)
def test_other_schemes_stay_text(app: Flask, client: FlaskClient, text: str) -> None:
    body = shown_body(app, client, f"click {text} now")
    assert links(body) == []
    assert elements(body, "script") == []


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize(
    ("text", "href", "after"),
    [
        # The address ends where HTML would begin; the rest is escaped text.
        (
            'http://x.com/"><script>alert(1)</script>',
            "http://x.com/",
            "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;",
        ),
        (
            "http://x.com/<img src=x onerror=alert(1)>",
            "http://x.com/",
            "&lt;img src=x onerror=alert(1)&gt;",
        ),
        ("<http://x.com/a>", "http://x.com/a", "&gt;"),
        ('"http://x.com/a"', "http://x.com/a", "&#34;"),
        ("'http://x.com/a'", "http://x.com/a", "&#39;"),
        # Quotes the linkifier keeps inside an address are escaped in the attributes.
        ('http://x.com/?q="a"', 'http://x.com/?q="a"', ""),
        ("http://x.com/it's", "http://x.com/it's", ""),
        ("http://x.com/a&b=<c>", "http://x.com/a&b=", "&lt;c&gt;"),
        # Punctuation after an address is not part of it.
        ("http://x.com/a.", "http://x.com/a", "."),
        ("http://x.com/a,", "http://x.com/a", ","),
        ("http://x.com/a!", "http://x.com/a", "!"),
        ("http://x.com/a?", "http://x.com/a", "?"),
        ("http://x.com/a)", "http://x.com/a", ")"),
        ("http://x.com/a;", "http://x.com/a", ";"),
        ("http://x.com/a:", "http://x.com/a", ":"),
    ],
)
def test_hostile_text_in_and_around_addresses_stays_text(
    app: Flask, client: FlaskClient, text: str, href: str, after: str
) -> None:
    body = shown_body(app, client, f"before {text} after")
    [link] = links(body)
    assert link["href"] == link["title"] == href and link["rel"] == REL
    assert elements(body, "script") == [] and elements(body, "img") == []
    assert body.endswith(f"</a>{after} after</p>")
    # Every attribute is quoted, its quotes escaped: the parser found exactly these.
    assert set(link) == {"href", "rel", "title", "text"}


@pytest.mark.usefixtures("logged_in")
def test_text_glued_before_an_address_keeps_it_from_being_one(
    app: Flask, client: FlaskClient
) -> None:
    body = shown_body(app, client, "xhttp://x.com/a and (http://y.com/b)")
    assert [link["href"] for link in links(body)] == ["http://y.com/b"]
    assert "xhttp://x.com/a and (<a " in body and "</a>)</p>" in body


@pytest.mark.usefixtures("logged_in")
def test_user_info_cannot_pose_as_the_host(app: Flask, client: FlaskClient) -> None:
    url = "https://bank.example@evil.example/login"
    [link] = links(shown_body(app, client, url))
    assert link["text"] == "evil.example/login" and link["title"] == url


@pytest.mark.usefixtures("logged_in")
def test_several_links_and_mentions_in_one_comment(app: Flask, client: FlaskClient) -> None:
    make_user(app, "carol")
    body = shown_body(app, client, "@carol: https://a.example/1, https://b.example/2 & more")
    found = links(body)
    assert [a["text"] for a in found] == ["carol", "a.example/1", "b.example/2"]
    assert body.endswith("</a> &amp; more</p>")


@pytest.mark.usefixtures("logged_in")
def test_profile_pages_show_links_too(app: Flask, client: FlaskClient) -> None:
    add_posts(app, make_user(app, "bob"), ["https://example.com/x"])
    html = client.get("/user/bob").get_data(as_text=True)
    assert [a["text"] for a in links(post_body(html)) if a.get("rel") == REL] == ["example.com/x"]
