"""@mentions in comments and about-me texts: resolved when saved, shown as username links
with the hover card, plain text again when the account goes, and no extra statements."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from tests.conftest import HTMX
from tests.conftest import QueryCounter
from tests.conftest import add_posts
from tests.conftest import csrf_token
from tests.conftest import make_user
from tests.conversation.html import elements
from tests.conversation.html import post_body
from webapp.accounts.deletion import delete_account
from webapp.conversation.models import post_mention
from webapp.core.extensions import db
from webapp.core.pagination import PAGE_SIZE
from webapp.people.models import about_me_mention
from webapp.people.profiles import update_about_me


def post_comment(client: FlaskClient, body: str):
    headers = {**HTMX, "X-CSRFToken": csrf_token(client, "/")}
    return client.post("/", data={"body": body}, headers=headers)


def save_about_me(client: FlaskClient, about_me: str):
    data = {"csrf_token": csrf_token(client, "/settings"), "about_me": about_me}
    return client.post("/settings/profile", data=data)


def set_about_me(app: Flask, user_id: int, about_me: str) -> None:
    """Through the same service the settings form uses."""
    with app.app_context():
        update_about_me(user_id, about_me)


def mention_links(html: str) -> list[dict[str, str]]:
    return [a for a in elements(html, "a") if "user-link" in a.get("class", "")]


def hovercard_link(username: str) -> dict[str, str]:
    """The attributes of every username link that opens a card (the author's link too)."""
    return {
        "class": "user-link",
        "href": f"/user/{username}",
        "data-hovercard": "",
        "aria-haspopup": "dialog",
        "hx-get": f"/user/{username}/popup",
        "hx-trigger": "hovercard:intent, focus",
        "hx-target": "this",
        "hx-swap": "none",
        "text": username,
    }


def stored_mentions(app: Flask, table) -> list[tuple[int, int]]:
    with app.app_context():
        return sorted(tuple(row) for row in db.session.execute(select(*table.c)))


# Comments -----------------------------------------------------------------------------------


def test_a_mention_is_the_username_link_with_the_hover_card(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    make_user(app, "Bob")
    response = post_comment(client, "Thanks @bob, and hello @nobody!")
    assert response.status_code == 200
    body = post_body(response.get_data(as_text=True))
    [link] = mention_links(body)
    assert link == hovercard_link("Bob")  # the account's own spelling of its name
    assert re.sub(r"<a [^>]*>Bob</a>", "LINK", body) == (
        '<p class="post-body">Thanks @LINK, and hello @nobody!</p>'
    )
    # The feed shows it the same way.
    assert post_body(client.get("/").get_data(as_text=True)) == body


@pytest.mark.usefixtures("logged_in")
def test_a_mention_has_the_same_markup_as_the_authors_link(app: Flask, client: FlaskClient) -> None:
    """post_item writes the author's link out flat (for speed); it must stay what
    user_link, the macro mentions use, makes."""
    bob = make_user(app, "Bob")
    add_posts(app, bob, ["I am @bob"])
    html = client.get("/").get_data(as_text=True)
    item = html[html.index('<article class="post"') : html.index("</article>")]
    author, mention = re.findall(r'<a class="user-link".*?</a>', item, re.DOTALL)
    assert re.sub(r"\s+", " ", author) == re.sub(r"\s+", " ", mention)
    assert [link for link in mention_links(item)] == [hovercard_link("Bob")] * 2


@pytest.mark.usefixtures("logged_in")
def test_mentions_are_resolved_when_the_comment_is_saved(app: Flask, client: FlaskClient) -> None:
    carol = make_user(app, "carol")
    post_comment(client, "@carol and @dave")
    make_user(app, "dave")  # too late for the comment above
    html = client.get("/").get_data(as_text=True)
    assert [link["text"] for link in mention_links(post_body(html))] == ["carol"]
    assert "and @dave</p>" in html
    assert [user for _, user in stored_mentions(app, post_mention)] == [carol]


@pytest.mark.usefixtures("logged_in")
def test_names_are_matched_like_logins_and_stored_once(app: Flask, client: FlaskClient) -> None:
    carol = make_user(app, "Carol_C")
    post_comment(client, "@carol_c @CAROL_C @Carol_C")
    body = post_body(client.get("/").get_data(as_text=True))
    assert [link["href"] for link in mention_links(body)] == ["/user/Carol_C"] * 3
    assert [user for _, user in stored_mentions(app, post_mention)] == [carol]


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize(
    "text",
    ["mail bob@bob.com", "@@bob", "@<script>alert(1)</script>", "x@bob", "@bob@elsewhere.example"],
)
def test_what_a_reader_would_not_call_a_mention_is_plain_text(
    app: Flask, client: FlaskClient, text: str
) -> None:
    make_user(app, "bob")
    post_comment(client, text)
    body = post_body(client.get("/").get_data(as_text=True))
    assert mention_links(body) == [] and elements(body, "script") == []
    assert stored_mentions(app, post_mention) == []


@pytest.mark.usefixtures("logged_in")
def test_text_around_mentions_is_escaped(app: Flask, client: FlaskClient) -> None:
    make_user(app, "bob")
    post_comment(client, '<b>@bob</b>"><img src=x onerror=alert(1)>@bob&amp;')
    body = post_body(client.get("/").get_data(as_text=True))
    assert [link["text"] for link in mention_links(body)] == ["bob", "bob"]
    assert elements(body, "b") == [] and elements(body, "img") == []
    assert body.startswith('<p class="post-body">&lt;b&gt;@<a ')
    assert "&#34;&gt;&lt;img src=x onerror=alert(1)&gt;@<a " in body
    assert body.endswith("</a>&amp;amp;</p>")


def test_a_deleted_accounts_mentions_become_plain_text(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    bob = make_user(app, "bob")
    carol = make_user(app, "carol")
    post_comment(client, "ping @bob and @carol")
    set_about_me(app, logged_in, "Friends with @bob and @carol.")
    with app.app_context():
        delete_account(bob)
    assert [user for _, user in stored_mentions(app, post_mention)] == [carol]
    assert stored_mentions(app, about_me_mention) == [(logged_in, carol)]
    body = post_body(client.get("/").get_data(as_text=True))
    assert [link["text"] for link in mention_links(body)] == ["carol"]
    assert "ping @bob and @<a " in body
    card = client.get("/user/alice/popup", headers=HTMX).get_data(as_text=True)
    assert "Friends with @bob and @<a " in card
    # Someone who takes the freed name later is not who the comment meant.
    make_user(app, "bob")
    assert "ping @bob and @<a " in client.get("/").get_data(as_text=True)


def test_deleting_a_comment_takes_its_mentions_along(app: Flask, logged_in: int) -> None:
    """The comment's author deleting their account deletes their comments' mention rows
    (the foreign key cascades), which the migration test cannot see."""
    bob = make_user(app, "bob")
    carol = make_user(app, "carol")
    add_posts(app, carol, ["@bob hi"])
    set_about_me(app, carol, "@bob")
    with app.app_context():
        delete_account(carol)
    assert stored_mentions(app, post_mention) == []
    assert stored_mentions(app, about_me_mention) == []
    assert bob


# About-me -----------------------------------------------------------------------------------


def test_about_me_mentions_on_the_profile_open_cards_and_in_a_card_are_links(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    bob = make_user(app, "Bob")
    assert save_about_me(client, "Pairs with @bob, not @ghost. <i>hi</i>").status_code == 303
    assert stored_mentions(app, about_me_mention) == [(logged_in, bob)]
    profile = client.get("/user/alice").get_data(as_text=True)
    about = profile[profile.index('<p class="card-about">') :]
    about = about[: about.index("</p>") + 4]
    assert mention_links(about) == [hovercard_link("Bob")]
    assert about.endswith(", not @ghost. &lt;i&gt;hi&lt;/i&gt;</p>")
    # Inside a popover the name is a plain link: a card there would close the one it is in.
    card = client.get("/user/alice/popup", headers=HTMX).get_data(as_text=True)
    assert (
        '<p class="card-about">Pairs with @<a class="user-link" href="/user/Bob">Bob</a>, ' in card
    )
    assert "hx-get" not in card[card.index("card-about") :]


def test_saving_the_about_me_again_replaces_its_mentions(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    bob = make_user(app, "bob")
    carol = make_user(app, "carol")
    save_about_me(client, "@bob")
    save_about_me(client, "@carol @alice")
    assert stored_mentions(app, about_me_mention) == sorted(
        [(logged_in, carol), (logged_in, logged_in)]
    )
    save_about_me(client, "nobody")
    assert stored_mentions(app, about_me_mention) == []
    assert bob


@pytest.mark.usefixtures("logged_in")
def test_about_me_addresses_stay_text(app: Flask, client: FlaskClient) -> None:
    """Links are for comments (the issue asked for them there); an address in an about-me
    stays text, and an @ inside it is no mention."""
    make_user(app, "bob")
    bob = make_user(app, "carol")
    set_about_me(app, bob, "Blog: https://blog.example/@bob")
    html = client.get("/user/carol").get_data(as_text=True)
    assert '<p class="card-about">Blog: https://blog.example/@bob</p>' in html
    assert stored_mentions(app, about_me_mention) == []


# Statements ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("logged_in")
def test_a_feed_page_full_of_mentions_costs_what_one_without_does(
    app: Flask, client: FlaskClient, count_queries: QueryCounter
) -> None:
    names = [f"friend{n}" for n in range(10)]
    authors = [make_user(app, name) for name in names]
    add_posts(app, authors[0], [f"plain {n}" for n in range(PAGE_SIZE)])
    client.get("/")  # "last seen" is written here, not below
    count_queries.statements.clear()
    client.get("/")
    plain = count_queries.count

    everyone = " ".join(f"@{name}" for name in names)
    for author in authors:
        add_posts(app, author, [f"{everyone} https://example.com/{n}" for n in range(2)])
    count_queries.statements.clear()
    html = client.get("/").get_data(as_text=True)
    assert count_queries.count == plain <= 3, count_queries.statements
    assert len(mention_links(html)) == PAGE_SIZE * (len(names) + 1)  # and the authors
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(post_mention)) == 200
    # "Load more" and a profile page: the same statements as without mentions.
    count_queries.statements.clear()
    fragment = client.get(re.search(r'hx-get="(/\?before=[^"]+)"', html)[1], headers=HTMX)
    assert fragment.status_code == 200 and count_queries.count <= plain


@pytest.mark.usefixtures("logged_in")
def test_cards_and_profiles_with_mentions_cost_what_they_did(
    app: Flask, client: FlaskClient, count_queries: QueryCounter
) -> None:
    quiet = make_user(app, "quiet")
    busy = make_user(app, "busy")
    friends = [make_user(app, f"friend{n}") for n in range(8)]
    set_about_me(app, busy, " ".join(f"@friend{n}" for n in range(8)))
    add_posts(app, busy, [f"@friend1 @friend2 #{n}" for n in range(PAGE_SIZE + 5)])
    client.get("/")  # "last seen" is written here, not below
    measured = {}
    for name in ("quiet", "busy"):
        count_queries.statements.clear()
        assert client.get(f"/user/{name}/popup", headers=HTMX).status_code == 200
        card = count_queries.count
        count_queries.statements.clear()
        page = client.get(f"/user/{name}").get_data(as_text=True)
        measured[name] = (card, count_queries.count)
    assert measured["quiet"] == measured["busy"], count_queries.statements
    card, profile = measured["busy"]
    assert card <= 2 and profile <= 4
    assert len(mention_links(page)) == 8 + 2 * PAGE_SIZE + PAGE_SIZE  # about, comments, authors
    assert quiet and friends


def test_posting_with_mentions_is_one_transaction_with_no_read_back(
    app: Flask, client: FlaskClient, logged_in: int, count_queries: QueryCounter
) -> None:
    """The new comment is shown from what was written (nothing is read again after the
    commit), and its mentions cost two statements: find the accounts, store the rows."""
    make_user(app, "bob")
    make_user(app, "carol")
    token = csrf_token(client, "/")
    headers = {**HTMX, "X-CSRFToken": token}
    count_queries.statements.clear()
    client.post("/", data={"body": "plain"}, headers=headers)
    plain = count_queries.count
    count_queries.statements.clear()
    response = client.post("/", data={"body": "@bob @carol @ghost"}, headers=headers)
    assert len(mention_links(response.get_data(as_text=True))) == 3  # with the author's
    assert count_queries.count == plain + 2, count_queries.statements


def test_about_me_is_checked_as_before(app: Flask, client: FlaskClient, logged_in: int) -> None:
    """Mentions change nothing about what an about-me may hold."""
    assert save_about_me(client, "@" + "x" * 280).status_code == 422
    response = client.post(
        "/settings/profile",
        data={"csrf_token": csrf_token(client, "/settings"), "about_me": "@bob\x00"},
    )
    assert response.status_code == 422
    assert stored_mentions(app, about_me_mention) == []
