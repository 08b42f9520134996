"""The card's relationship line: "Follows you", "You follow each other", or "Followed by A, B
and N others you follow", never two of them, never on one's own card; in one statement."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

from tests.conftest import HTMX
from tests.conftest import QueryCounter
from tests.conftest import csrf_token
from tests.conftest import make_user
from webapp.accounts.models import User
from webapp.core.extensions import db
from webapp.demo import recount
from webapp.people.follows import follow as follow_user
from webapp.people.models import follow
from webapp.people.profiles import followed_by

LINE = re.compile(r'<p class="card-relation">(.*?)</p>', re.S)


def follows(app: Flask, *pairs: tuple[int, int]) -> None:
    """Follows made through the app's own service (counters included)."""
    with app.app_context():
        for follower, followed in pairs:
            follow_user(follower, followed)


def crowd(app: Flask, prefix: str, size: int) -> list[int]:
    """`size` users in one INSERT (make_user hashes a password per user: too slow for a
    thousand); nobody logs in as them."""
    with app.app_context():
        rows = [
            {
                "username": f"{prefix}{n:04d}",
                "username_canon": f"{prefix}{n:04d}",
                "email": f"{prefix}{n:04d}@example.com",
                "password_hash": "-",
            }
            for n in range(size)
        ]
        ids = db.session.scalars(
            insert(User).returning(User.id, sort_by_parameter_order=True), rows
        )
        ids = list(ids)
        db.session.commit()
        return ids


def bulk_follows(app: Flask, pairs: list[tuple[int, int]]) -> None:
    """Many follows in one INSERT, then every counter recounted from the rows."""
    with app.app_context():
        db.session.execute(insert(follow), [{"follower_id": a, "followed_id": b} for a, b in pairs])
        recount()
        db.session.commit()


def card(client: FlaskClient, username: str) -> str:
    response = client.get(f"/user/{username}/popup", headers=HTMX)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def line(html: str) -> str | None:
    """The relationship line's text (avatars left out), or None when there is none."""
    found = LINE.findall(html)
    assert len(found) <= 1, found  # never two lines
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", found[0])).strip() if found else None


def avatar_links(html: str) -> list[str]:
    return re.findall(r'<a class="card-relation-avatar" href="([^"]+)"', html)


# "Follows you" and "You follow each other" ------------------------------------------------


def test_follows_you(app: Flask, client: FlaskClient, logged_in: int) -> None:
    bob = make_user(app, "bob")
    follows(app, (bob, logged_in))
    html = card(client, "bob")
    assert line(html) == "Follows you"
    assert ">Follow</button>" in html


def test_you_follow_each_other(app: Flask, client: FlaskClient, logged_in: int) -> None:
    bob = make_user(app, "bob")
    follows(app, (bob, logged_in), (logged_in, bob))
    html = card(client, "bob")
    assert line(html) == "You follow each other"
    assert ">Unfollow</button>" in html


def test_following_back_from_the_card_updates_the_line(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    bob = make_user(app, "bob")
    follows(app, (bob, logged_in))
    headers = {**HTMX, "X-CSRFToken": csrf_token(client, "/")}
    followed = client.post("/user/bob/follow", headers=headers).get_data(as_text=True)
    assert line(followed) == "You follow each other"
    unfollowed = client.post("/user/bob/unfollow", headers=headers).get_data(as_text=True)
    assert line(unfollowed) == "Follows you"


def test_only_following_them_says_nothing(app: Flask, client: FlaskClient, logged_in: int) -> None:
    bob = make_user(app, "bob")
    follows(app, (logged_in, bob))
    html = card(client, "bob")
    assert line(html) is None and "card-relation" not in html


# "Followed by ..." --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("in_common", "expected"),
    [
        (0, None),
        (1, "Followed by carol"),
        (2, "Followed by carol and dave"),
        (3, "Followed by carol, dave and erin"),
        (4, "Followed by carol, dave and 2 others you follow"),
        (6, "Followed by carol, dave and 4 others you follow"),
    ],
)
def test_followed_by_people_you_follow(
    app: Flask, client: FlaskClient, logged_in: int, in_common: int, expected: str | None
) -> None:
    bob = make_user(app, "bob")
    names = ["carol", "dave", "erin", "frank", "gina", "hank"]
    people = [make_user(app, name) for name in names]
    # Alice follows all six; the first `in_common` of them follow bob.
    follows(app, *[(logged_in, p) for p in people], *[(p, bob) for p in people[:in_common]])
    # Neither counts: someone alice does not follow, and alice herself.
    stranger = make_user(app, "stranger")
    follows(app, (stranger, bob), (logged_in, bob))
    html = card(client, "bob")
    assert line(html) == expected
    assert avatar_links(html) == [f"/user/{name}" for name in names[: min(in_common, 3)]]


def test_names_on_the_line_are_plain_links_without_cards(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    bob, carol = make_user(app, "bob"), make_user(app, "Carol")
    follows(app, (logged_in, carol), (carol, bob))
    html = card(client, "bob")
    relation = LINE.search(html).group(0)
    assert line(html) == "Followed by Carol"
    assert avatar_links(html) == ["/user/Carol"]
    assert 'src="/avatar/carol.svg"' in relation and 'width="20"' in relation
    assert 'alt="Carol"' in relation  # the link's accessible name
    # A link in a card opens no card of its own.
    assert "data-hovercard" not in relation and "hx-" not in relation


def test_the_line_escapes_names(app: Flask, client: FlaskClient, logged_in: int) -> None:
    # Registration allows only letters, digits and underscores; the template must not rely
    # on that.
    bob, odd = make_user(app, "bob"), make_user(app, "<i>eve&</i>")
    follows(app, (logged_in, odd), (odd, bob))
    html = card(client, "bob")
    assert "Followed by &lt;i&gt;eve&amp;&lt;/i&gt;" in html
    assert 'alt="&lt;i&gt;eve&amp;&lt;/i&gt;"' in html
    assert "<i>" not in html


def test_follows_you_wins_over_followed_by(app: Flask, client: FlaskClient, logged_in: int) -> None:
    bob, carol = make_user(app, "bob"), make_user(app, "carol")
    follows(app, (logged_in, carol), (carol, bob), (bob, logged_in))
    html = card(client, "bob")
    assert line(html) == "Follows you" and avatar_links(html) == []


def test_no_line_on_ones_own_card(app: Flask, client: FlaskClient, logged_in: int) -> None:
    carol = make_user(app, "carol")
    follows(app, (logged_in, carol), (carol, logged_in))
    for page in (card(client, "alice"), client.get("/user/alice").get_data(as_text=True)):
        assert line(page) is None and "card-relation" not in page


def test_the_profile_page_shows_the_line_too(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    bob = make_user(app, "bob")
    follows(app, (bob, logged_in))
    assert line(client.get("/user/bob").get_data(as_text=True)) == "Follows you"


@pytest.mark.parametrize(
    ("names", "count", "expected"),
    [
        ([], 0, None),
        (["A"], 1, "Followed by A"),
        (["A", "B"], 2, "Followed by A and B"),
        (["A", "B", "C"], 3, "Followed by A, B and C"),
        (["A", "B", "C"], 4, "Followed by A, B and 2 others you follow"),
        (["A", "B", "C"], 101, "Followed by A, B and 99 others you follow"),
        # The count stops at 102 (two named, 100 others): the text says "99+".
        (["A", "B", "C"], 102, "Followed by A, B and 99+ others you follow"),
        # Not what the card query returns (it names up to three), but the grammar holds.
        (["A", "B"], 3, "Followed by A, B and 1 other you follow"),
    ],
)
def test_followed_by_wording(names: list[str], count: int, expected: str | None) -> None:
    assert followed_by(names, count) == expected


# Cost: two statements, whatever the numbers ------------------------------------------------


def test_card_with_a_thousand_follows_costs_two_statements(
    app: Flask, client: FlaskClient, logged_in: int, count_queries: QueryCounter
) -> None:
    """Alice follows 1,000 users; bob has 1,200 followers, 300 of them people alice follows;
    carol has 3 followers, all people alice follows; erin has 600, 10 of them people alice
    follows; dave has none. Each card: the current user and the card, two statements,
    whichever list is walked (and on PostgreSQL, whether the lists are intersected)."""
    bob, carol, erin = make_user(app, "bob"), make_user(app, "carol"), make_user(app, "erin")
    make_user(app, "dave")
    followed = crowd(app, "f", 1_000)
    fans = crowd(app, "g", 900)
    bulk_follows(
        app,
        [(logged_in, user) for user in followed]
        + [(user, bob) for user in followed[::-1][:300] + fans]
        + [(user, carol) for user in followed[500:503]]
        + [(user, erin) for user in followed[:10] + fans[:590]],
    )
    expected = {
        "bob": "Followed by f0700, f0701 and 99+ others you follow",
        "carol": "Followed by f0500, f0501 and f0502",
        "erin": "Followed by f0000, f0001 and 8 others you follow",
        "dave": None,
    }
    client.get("/")  # "last seen" is recorded here, not during the measurement
    for name, text in expected.items():
        count_queries.statements.clear()
        html = card(client, name)
        assert count_queries.count == 2, count_queries.statements
        assert line(html) == text


@pytest.mark.parametrize(
    ("in_common", "others"),
    [(101, "99 others"), (102, "99+ others"), (150, "99+ others")],
)
def test_the_count_stops_past_ninety_nine_others(
    app: Flask,
    client: FlaskClient,
    logged_in: int,
    count_queries: QueryCounter,
    in_common: int,
    others: str,
) -> None:
    """Past 99 others the walk stops and the line says "99+", never a wrong number."""
    bob = make_user(app, "bob")
    followed = crowd(app, "f", 150)
    bulk_follows(
        app,
        [(logged_in, user) for user in followed] + [(user, bob) for user in followed[:in_common]],
    )
    client.get("/")
    count_queries.statements.clear()
    html = card(client, "bob")
    assert count_queries.count == 2, count_queries.statements
    assert line(html) == f"Followed by f0000, f0001 and {others} you follow"
