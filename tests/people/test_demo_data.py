"""Demo data: mentions, links and mutual follows, and the first card a visitor opens shows
them."""

from __future__ import annotations

import re

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.conftest import HTMX
from tests.conftest import AuthActions
from tests.conversation.html import elements
from webapp.conversation.segments import mentioned_names
from webapp.core.extensions import db
from webapp.demo import DEMO_PASSWORD
from webapp.demo import DEMO_USERNAME
from webapp.models import Post
from webapp.models import User
from webapp.models import about_me_mention
from webapp.models import follow
from webapp.models import post_mention


def test_demo_mentions_are_stored_as_saving_would_store_them(app: Flask, runner) -> None:
    result = runner.invoke(args=["seed-demo", "--users", "40", "--comments", "400"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        id_of = dict(db.session.execute(select(User.username_canon, User.id)).all())
        posts = db.session.execute(select(Post.id, Post.body)).all()
        abouts = db.session.execute(select(User.id, User.about_me)).all()
        stored_posts = set(db.session.execute(select(*post_mention.c)).all())
        stored_abouts = set(db.session.execute(select(*about_me_mention.c)).all())
        follows = set(db.session.execute(select(*follow.c)).all())
    expected_posts = {(p, id_of[n]) for p, body in posts for n in mentioned_names(body)}
    expected_abouts = {(u, id_of[n]) for u, text in abouts for n in mentioned_names(text)}
    assert stored_posts == expected_posts and len(stored_posts) >= 40
    assert stored_abouts == expected_abouts and len(stored_abouts) >= 5
    assert sum("https://" in body for _, body in posts) >= 20
    mutual = {(a, b) for a, b in follows if (b, a) in follows}
    assert len(mutual) >= len(follows) / 5


def test_the_first_card_a_visitor_opens_shows_the_new_lines(
    app: Flask, runner, client: FlaskClient
) -> None:
    runner.invoke(args=["seed-demo", "--users", "30", "--comments", "300"])
    assert AuthActions(client).login(DEMO_USERNAME, DEMO_PASSWORD).status_code == 303
    feed = client.get("/").get_data(as_text=True)
    # The newest comments mention someone, and among them are links.
    bodies = re.findall(r'<p class="post-body">.*?</p>', feed, re.DOTALL)
    assert all("data-hovercard" in body for body in bodies[:5])
    assert any('rel="nofollow ugc noopener noreferrer"' in body for body in bodies[:2])
    # The first name a visitor hovers: its card mentions someone and follows demo back.
    names = [a for a in elements(feed, "a") if "user-link" in a.get("class", "")]
    author = next(name for name in names if name["text"] != DEMO_USERNAME)
    card = client.get(author["hx-get"], headers=HTMX).get_data(as_text=True)
    about = card[card.index('<p class="card-about">') :]
    assert re.match(r'<p class="card-about">[^<]*@<a class="user-link" href="/user/\w+">', about)
    assert ">Unfollow</button>" in card  # demo follows them
    with app.app_context():
        demo = db.session.scalar(select(User.id).where(User.username == DEMO_USERNAME))
        them = db.session.scalar(select(User.id).where(User.username == author["text"]))
        assert db.session.execute(
            select(follow).where(follow.c.follower_id == them, follow.c.followed_id == demo)
        ).first()  # and they follow demo


def test_two_users_are_enough(app: Flask, runner) -> None:
    result = runner.invoke(args=["seed-demo", "--users", "2", "--comments", "3"])
    assert result.exit_code == 0, result.output
    assert "Added 2 users, 3 comments" in result.output
