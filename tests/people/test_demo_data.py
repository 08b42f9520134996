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
from webapp.accounts.models import User
from webapp.conversation.models import Post
from webapp.conversation.models import post_mention
from webapp.conversation.segments import mentioned_names
from webapp.core.extensions import db
from webapp.core.timeutil import utcnow
from webapp.demo import DEMO_PASSWORD
from webapp.demo import DEMO_USERNAME
from webapp.people.models import about_me_mention
from webapp.people.models import follow


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
    # The newest comments (the first of each thread) mention someone; some have links.
    bodies = re.findall(
        r'<div class="thread" id="thread-\d+">\s*<article.*?(<p class="post-body">.*?</p>)',
        feed,
        re.DOTALL,
    )
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


def test_demo_data_is_a_conversation_with_counters_that_match_the_rows(app: Flask, runner) -> None:
    result = runner.invoke(args=["seed-demo", "--users", "40", "--comments", "400"])
    assert result.exit_code == 0, result.output
    assert re.search(r"400 comments, [1-9][0-9]* replies", result.output)
    with app.app_context():
        posts = db.session.execute(
            select(Post.id, Post.parent_id, Post.user_id, Post.timestamp, Post.edited_at)
            .add_columns(Post.reply_count, Post.body)
            .order_by(Post.timestamp.desc())
        ).all()
        users = db.session.execute(select(User.id, User.username, User.post_count)).all()
    top = [post for post in posts if post.parent_id is None]
    replies = [post for post in posts if post.parent_id is not None]
    by_id = {post.id: post for post in posts}
    # Counters equal a recount of the rows.
    for post in top:
        assert post.reply_count == sum(reply.parent_id == post.id for reply in replies)
    for user_id, _, post_count in users:
        assert post_count == sum(post.user_id == user_id for post in posts)
    # One level of nesting, and every reply after its comment.
    assert all(by_id[reply.parent_id].parent_id is None for reply in replies)
    assert all(reply.timestamp > by_id[reply.parent_id].timestamp for reply in replies)
    # What a visitor sees first: the newest comments have threads, recent ones...
    newest = top[:5]
    assert all(post.reply_count >= 2 for post in newest)
    assert any(post.reply_count > 2 for post in newest)  # "Show all N replies"
    assert newest[0].edited_at is not None
    recent = max(reply.timestamp for reply in replies if reply.parent_id == newest[0].id)
    assert (utcnow() - recent).total_seconds() < 10 * 60
    # ...a reply answering another reply's author by @name, and older threads and edits.
    names = {name.casefold() for _, name, _ in users}
    assert any(mentioned_names(reply.body) & names for reply in replies)
    assert sum(post.reply_count > 0 for post in top[5:]) >= 10
    assert sum(post.edited_at is not None for post in top[1:]) >= 5
