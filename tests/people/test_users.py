"""Profiles, the card fragment, following, about-me, last seen, avatars and demo data."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import update

from tests.conftest import HTMX
from tests.conftest import QueryCounter
from tests.conftest import add_posts
from tests.conftest import csrf_token
from tests.conftest import make_user
from webapp.accounts.models import User
from webapp.conversation.models import Post
from webapp.core.extensions import db
from webapp.core.timeutil import utcnow
from webapp.people.avatars import avatar_colour
from webapp.people.models import follow


def user(app: Flask, user_id: int) -> User:
    with app.app_context():
        found = db.session.get(User, user_id)
        db.session.expunge(found)
        return found


def counts(app: Flask, user_id: int) -> tuple[int, int, int]:
    found = user(app, user_id)
    return found.post_count, found.follower_count, found.following_count


def recounted(app: Flask, user_id: int) -> tuple[int, int, int]:
    with app.app_context():
        return (
            db.session.scalar(
                select(func.count()).where(Post.user_id == user_id, Post.deleted_at.is_(None))
            ),
            db.session.scalar(select(func.count()).where(follow.c.followed_id == user_id)),
            db.session.scalar(select(func.count()).where(follow.c.follower_id == user_id)),
        )


def post_action(client: FlaskClient, url: str, htmx: bool = True):
    token = csrf_token(client, "/")
    if htmx:
        return client.post(url, headers={**HTMX, "X-CSRFToken": token})
    return client.post(url, data={"csrf_token": token})


# Profile page ------------------------------------------------------------------------------


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize("typed", ["Bob_B", "bob_b", "BOB_B", "ｂｏｂ_ｂ"])
def test_profile_matches_names_like_login(app: Flask, client: FlaskClient, typed: str) -> None:
    bob = make_user(app, "Bob_B", about_me="Hi, I'm Bob.")
    carol = make_user(app, "carol")
    add_posts(app, bob, ["bob's comment"])
    add_posts(app, carol, ["carol's comment"])
    response = client.get(f"/user/{typed}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'class="profile-card"' in html and "Hi, I&#39;m Bob." in html
    assert "bob&#39;s comment" in html and "carol" not in html


@pytest.mark.usefixtures("logged_in")
def test_unknown_profile_is_the_404_page(client: FlaskClient) -> None:
    response = client.get("/user/nobody")
    assert response.status_code == 404
    assert "404 · Not found" in response.get_data(as_text=True)
    assert client.get("/user/" + "x" * 500).status_code == 404


@pytest.mark.usefixtures("logged_in")
def test_profile_load_more(app: Flask, client: FlaskClient) -> None:
    bob = make_user(app, "bob")
    ids = add_posts(app, bob, [f"b{n}" for n in range(25)])
    html = client.get("/user/bob").get_data(as_text=True)
    match = re.search(r'hx-get="(/user/bob\?before=[^"]+)"', html)
    fragment = client.get(match.group(1).replace("&amp;", "&"), headers=HTMX)
    text = fragment.get_data(as_text=True)
    assert "<html" not in text and "profile-card" not in text
    found = [int(n) for n in re.findall(r'id="post-(\d+)"', html + text)]
    assert sorted(found) == sorted(ids)


def test_own_profile_links_to_edit_and_has_no_follow_button(
    client: FlaskClient, logged_in: int
) -> None:
    html = client.get("/user/alice").get_data(as_text=True)
    assert 'href="/settings#profile"' in html
    assert "Follow</button>" not in html


# The card fragment -------------------------------------------------------------------------


@pytest.mark.usefixtures("logged_in")
def test_card_fragment_contents(app: Flask, client: FlaskClient) -> None:
    bob = make_user(app, "Bob", about_me="Likes <script>alert(1)</script> & tea")
    add_posts(app, bob, ["one", "two"])
    response = client.get("/user/bob/popup", headers=HTMX)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.startswith("<article") and "<html" not in html
    assert ">Bob</a>" in html
    assert "Likes &lt;script&gt;alert(1)&lt;/script&gt; &amp; tea" in html
    assert "Member since" in html and "Last seen" in html
    assert "<strong>2</strong> comments" in html
    assert "<strong>0</strong> followers" in html and "<strong>0</strong> following" in html
    assert 'action="/user/Bob/follow"' in html and ">Follow</button>" in html
    assert "@example.com" not in html


def test_own_card_has_no_follow_button(client: FlaskClient, logged_in: int) -> None:
    html = client.get("/user/alice/popup", headers=HTMX).get_data(as_text=True)
    assert "alice" in html and "Follow</button>" not in html and "Unfollow" not in html


@pytest.mark.usefixtures("logged_in")
def test_card_is_cacheable_privately_and_varies_on_htmx(app: Flask, client: FlaskClient) -> None:
    make_user(app, "bob")
    response = client.get("/user/bob/popup", headers=HTMX)
    cache_control = response.headers["Cache-Control"]
    assert "private" in cache_control and re.search(r"max-age=\d+", cache_control)
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.usefixtures("logged_in")
def test_unknown_card_is_a_short_404_fragment(client: FlaskClient) -> None:
    response = client.get("/user/ghost/popup", headers=HTMX)
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "<html" not in html and "There is no user by that name." in html
    assert len(html) < 200


def test_card_needs_login(app: Flask, client: FlaskClient) -> None:
    make_user(app, "bob")
    htmx = client.get("/user/bob/popup", headers={**HTMX, "HX-Current-URL": "http://localhost/"})
    assert htmx.status_code == 401
    assert htmx.headers["HX-Redirect"] == "/login?next=%2F"
    plain = client.get("/user/bob/popup")
    assert plain.status_code == 302 and plain.location.startswith("/login?next=")


@pytest.mark.usefixtures("logged_in")
def test_card_costs_two_statements_whoever_it_shows(
    app: Flask, client: FlaskClient, count_queries: QueryCounter
) -> None:
    new = make_user(app, "newbie")
    busy = make_user(app, "busy")
    add_posts(app, busy, [f"p{n}" for n in range(30)])
    with app.app_context():
        for n in range(30):
            from webapp.people.follows import follow as do_follow

            do_follow(make_user(app, f"fan{n}"), busy)
    for name in ("newbie", "busy"):
        count_queries.statements.clear()
        assert client.get(f"/user/{name}/popup", headers=HTMX).status_code == 200
        assert count_queries.count <= 2, count_queries.statements
    assert new and counts(app, busy) == (30, 30, 0)


@pytest.mark.usefixtures("logged_in")
def test_profile_page_costs_a_fixed_number_of_statements(
    app: Flask, client: FlaskClient, count_queries: QueryCounter
) -> None:
    quiet = make_user(app, "quiet")
    busy = make_user(app, "busy")
    add_posts(app, busy, [f"p{n}" for n in range(45)])
    client.get("/")  # "last seen" is recorded here, not during the measurement
    measured = {}
    for name in ("quiet", "busy"):
        count_queries.statements.clear()
        assert client.get(f"/user/{name}").status_code == 200
        measured[name] = count_queries.count
    assert measured["quiet"] == measured["busy"] <= 4, count_queries.statements
    assert quiet


# Following ---------------------------------------------------------------------------------


def test_follow_and_unfollow_are_idempotent_and_counted(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    bob = make_user(app, "bob")
    for _ in range(2):
        response = post_action(client, "/user/bob/follow")
        assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<div class="card-social">')
    assert "<strong>1</strong> follower" in html and ">Unfollow</button>" in html
    assert counts(app, bob)[1] == 1 and counts(app, logged_in)[2] == 1
    for _ in range(2):
        response = post_action(client, "/user/BOB/unfollow")
    assert "<strong>0</strong> followers" in response.get_data(as_text=True)
    assert counts(app, bob) == recounted(app, bob) == (0, 0, 0)
    assert counts(app, logged_in) == recounted(app, logged_in)


def test_follow_without_javascript_redirects_to_the_profile(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    make_user(app, "bob")
    response = post_action(client, "/user/bob/follow", htmx=False)
    assert response.status_code == 303 and response.location == "/user/bob"
    assert "Unfollow</button>" in client.get("/user/bob").get_data(as_text=True)


def test_following_oneself_is_refused(app: Flask, client: FlaskClient, logged_in: int) -> None:
    response = post_action(client, "/user/alice/follow")
    assert response.status_code == 400
    assert response.get_data(as_text=True) == "You cannot follow yourself."
    plain = post_action(client, "/user/alice/follow", htmx=False)
    assert plain.status_code == 303
    assert "You cannot follow yourself." in client.get(plain.location).get_data(as_text=True)
    assert counts(app, logged_in) == (0, 0, 0)


def test_follow_needs_csrf_and_a_known_user(app: Flask, client: FlaskClient, logged_in) -> None:
    bob = make_user(app, "bob")
    assert client.post("/user/bob/follow", headers=HTMX).status_code == 400
    assert post_action(client, "/user/ghost/follow").status_code == 404
    assert counts(app, bob) == (0, 0, 0)


def test_counters_equal_a_recount_after_mixed_activity(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    names = ["bob", "carol", "dave"]
    ids = [make_user(app, name) for name in names]
    for name in names:
        post_action(client, f"/user/{name}/follow")
    post_action(client, "/user/carol/unfollow")
    post_action(client, "/user/dave/follow")
    add_posts(app, ids[0], ["x", "y"])
    for user_id in [*ids, logged_in]:
        assert counts(app, user_id) == recounted(app, user_id)


# About me ----------------------------------------------------------------------------------


def test_edit_profile(app: Flask, client: FlaskClient, logged_in: int) -> None:
    token = csrf_token(client, "/settings")
    response = client.post(
        "/settings/profile", data={"csrf_token": token, "about_me": "  Hello!\r\nSecond line  "}
    )
    assert response.status_code == 303 and response.location == "/settings#profile"
    assert user(app, logged_in).about_me == "Hello!\nSecond line"
    page = client.get("/settings").get_data(as_text=True)
    assert "Hello!\nSecond line" in page and "Your profile is saved." in page
    assert "Hello!\nSecond line" in client.get("/user/alice").get_data(as_text=True)


def test_edit_profile_with_htmx_returns_the_section(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    headers = {**HTMX, "X-CSRFToken": csrf_token(client, "/settings")}
    response = client.post("/settings/profile", data={"about_me": "Tea"}, headers=headers)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section class="card-panel settings-section" id="profile"')
    assert "<html" not in html and "Your profile is saved." in html
    assert user(app, logged_in).about_me == "Tea"


@pytest.mark.parametrize(
    ("about_me", "message"),
    [("x" * 281, "280"), ("nul\x00", "control characters"), ("esc\x1b", "control characters")],
)
@pytest.mark.parametrize("htmx", [False, True])
def test_edit_profile_refuses_bad_text(
    app: Flask, client: FlaskClient, logged_in: int, about_me: str, message: str, htmx: bool
) -> None:
    token = csrf_token(client, "/settings")
    headers = HTMX if htmx else {}
    response = client.post(
        "/settings/profile", data={"csrf_token": token, "about_me": about_me}, headers=headers
    )
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert ("<html" in response.get_data(as_text=True)) is not htmx
    assert user(app, logged_in).about_me == ""


def test_old_edit_profile_address_leads_to_settings(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    page = client.get("/edit_profile")
    assert page.status_code == 302 and page.location == "/settings#profile"
    # A form still posting to the old address keeps its method and body (307), and works.
    data = {"csrf_token": csrf_token(client, "/settings"), "about_me": "Moved"}
    moved = client.post("/edit_profile", data=data)
    assert moved.status_code == 307 and moved.location == "/settings/profile"
    assert user(app, logged_in).about_me == ""
    # What a browser does with a 307: the same POST, body and all, to the new address.
    # (Werkzeug's client cannot replay a form body it has already read, so we do it.)
    followed = client.post(moved.location, data=data)
    assert followed.status_code == 303 and followed.location == "/settings#profile"
    assert user(app, logged_in).about_me == "Moved"


# Last seen -----------------------------------------------------------------------------------


def set_last_seen(app: Flask, user_id: int, minutes_ago: float) -> None:
    with app.app_context():
        db.session.execute(
            update(User)
            .where(User.id == user_id)
            .values(last_seen=utcnow() - timedelta(minutes=minutes_ago))
        )
        db.session.commit()


def minutes_since_seen(app: Flask, user_id: int) -> float:
    return (utcnow() - user(app, user_id).last_seen).total_seconds() / 60


def test_last_seen_is_recorded_by_pages_at_most_once_a_minute(
    app: Flask, client: FlaskClient, logged_in: int
) -> None:
    set_last_seen(app, logged_in, 30)
    client.get("/")
    assert minutes_since_seen(app, logged_in) < 0.1
    set_last_seen(app, logged_in, 0.5)  # seen 30 s ago: no new write
    client.get("/")
    assert 0.45 < minutes_since_seen(app, logged_in) < 0.6


def test_last_seen_is_not_written_by_cards_fragments_or_static(
    app: Flask, client: FlaskClient, logged_in: int, count_queries: QueryCounter
) -> None:
    make_user(app, "bob")
    set_last_seen(app, logged_in, 30)
    count_queries.statements.clear()
    client.get("/user/bob/popup", headers=HTMX)
    client.get("/user/bob/popup")
    client.get("/user/bob", headers=HTMX)
    client.get("/", headers=HTMX)
    with client.get("/static/css/app.css"):
        pass
    client.get("/avatar/bob.svg")
    assert 29 < minutes_since_seen(app, logged_in) < 31
    assert not [s for s in count_queries.statements if s.lstrip().upper().startswith("UPDATE")]


# Avatars -----------------------------------------------------------------------------------


def relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted([relative_luminance(a), relative_luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_avatar_is_a_cacheable_svg_without_the_email(client: FlaskClient, app: Flask) -> None:
    make_user(app, "Bob", email="bob.secret@example.com")
    response = client.get("/avatar/bob.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert "max-age=31536000" in response.headers["Cache-Control"]
    body = response.get_data(as_text=True)
    assert body.startswith("<svg") and ">B</text>" in body and "secret" not in body
    assert client.get("/avatar/BOB.svg").data == response.data


def test_avatar_colours_are_readable_in_light_and_dark_schemes() -> None:
    white, light_page, dark_page = "#ffffff", "#f6f7f9", "#0f1216"
    for n in range(500):
        colour = avatar_colour(f"user{n}")
        assert contrast(colour, white) >= 4.5, colour  # the white initial
        assert contrast(colour, light_page) >= 3, colour  # the circle on a light page
        assert contrast(colour, dark_page) >= 1.4, colour  # ...and on a dark one


def test_avatar_escapes_whatever_name_it_is_given(client: FlaskClient) -> None:
    body = client.get("/avatar/%3Cscript%3E.svg").get_data(as_text=True)
    assert "<script" not in body and "&lt;" in body


# Demo data -----------------------------------------------------------------------------------


def test_seed_demo_fills_an_empty_database_consistently(app: Flask, runner) -> None:
    result = runner.invoke(args=["seed-demo", "--users", "30", "--comments", "300"])
    assert result.exit_code == 0, result.output
    assert "Added 30 users, 300 comments" in result.output
    assert "Log in as 'demo' with password 'hoverfeed-demo'" in result.output
    with app.app_context():
        users = list(db.session.scalars(select(User)))
        assert len(users) == 30
        assert len({u.about_me for u in users}) > 3
        stamps = list(db.session.scalars(select(Post.timestamp).where(Post.parent_id.is_(None))))
        assert len(stamps) == 300  # comments; replies come on top of them
        assert max(stamps) - min(stamps) > timedelta(days=14)
        assert db.session.scalar(select(func.count()).select_from(follow)) > 0
        ids = [u.id for u in users]
    for user_id in ids:
        assert counts(app, user_id) == recounted(app, user_id)
    again = runner.invoke(args=["seed-demo", "--if-empty"])
    assert again.exit_code == 0 and "no demo data added" in again.output
    refused = runner.invoke(args=["seed-demo"])
    assert refused.exit_code != 0 and "already" in refused.output


def test_demo_user_can_log_in(app: Flask, runner, auth) -> None:
    runner.invoke(args=["seed-demo", "--users", "5", "--comments", "10"])
    assert auth.login("demo", "hoverfeed-demo").status_code == 303


def test_seed_demo_on_an_unmigrated_database_says_what_to_run(empty_app: Flask) -> None:
    result = empty_app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "alembic upgrade head" in result.output and "Traceback" not in result.output
