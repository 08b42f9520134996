"""Deleting an account that took part in threads: its replies under others' comments lower
those comments' reply_count, others' replies under its comments go with them and lower
their authors' post_count; deleted replies were counted out already and count nothing."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func
from sqlalchemy import select

from tests.conftest import add_posts
from tests.conftest import make_user
from tests.conversation.test_edits import add_reply
from tests.conversation.test_edits import assert_counters_match_recount
from tests.conversation.test_edits import post_count
from tests.conversation.test_edits import reply_count
from tests.conversation.test_edits import row
from webapp.accounts.deletion import delete_account
from webapp.conversation import edits
from webapp.conversation.models import Post
from webapp.core.extensions import db


def test_deleting_an_account_with_replies_both_ways_keeps_every_counter_true(
    app: Flask,
) -> None:
    vic, bob, carol = (make_user(app, name) for name in ("vic", "bob", "carol"))
    # Vic's top comments, and the replies under them.
    vics_top, vics_deleted_top = add_posts(app, vic, ["Vic asks", "Vic deleted this"])
    bob_under_vic = add_reply(app, bob, vics_top, "Bob answers Vic")
    add_reply(app, carol, vics_top, "Carol answers Vic")
    carol_deleted_under_vic = add_reply(app, carol, vics_top, "Carol changed her mind")
    add_reply(app, vic, vics_top, "Vic answers himself")
    add_reply(app, bob, vics_deleted_top, "Bob keeps the placeholder alive")
    # Others' top comments, and Vic's replies under them (one of them deleted).
    bobs_top, carols_top = add_posts(app, bob, ["Bob asks"])[0], add_posts(app, carol, ["Hi"])[0]
    add_reply(app, vic, bobs_top, "Vic answers Bob")
    add_reply(app, vic, bobs_top, "Vic again")
    vic_deleted_under_bob = add_reply(app, vic, bobs_top, "Vic, deleted")
    carol_under_bob = add_reply(app, carol, bobs_top, "Carol answers Bob")
    add_reply(app, vic, carols_top, "Vic answers Carol")
    with app.app_context():
        edits.delete_post(carol_deleted_under_vic, carol)
        edits.delete_post(vic_deleted_under_bob, vic)
        edits.delete_post(vics_deleted_top, vic)
    assert_counters_match_recount(app)
    assert reply_count(app, bobs_top) == 3 and reply_count(app, carols_top) == 1
    assert post_count(app, bob) == 1 + 2  # his top comment, his replies under Vic's
    assert post_count(app, carol) == 1 + 2  # her top comment, her live replies

    with app.app_context():
        delete_account(vic)

    assert_counters_match_recount(app)
    # Vic's live replies are counted out of Bob's and Carol's threads.
    assert reply_count(app, bobs_top) == 1 and reply_count(app, carols_top) == 0
    # Bob's and Carol's replies under Vic's comments went with them, counted out.
    assert row(app, bob_under_vic) is None
    assert post_count(app, bob) == 1
    assert post_count(app, carol) == 1 + 1  # her top comment, her reply under Bob's
    assert row(app, carol_under_bob) is not None
    with app.app_context():
        assert db.session.scalar(select(func.count()).where(Post.user_id == vic)) == 0
        remaining = db.session.scalar(select(func.count()).select_from(Post))
    assert remaining == 3  # Bob's top, Carol's top, Carol's reply under Bob's


def test_deleting_an_account_without_threads_changes_no_reply_count(app: Flask) -> None:
    vic, bob = make_user(app, "vic"), make_user(app, "bob")
    add_posts(app, vic, ["alone"])
    bobs_top = add_posts(app, bob, ["Bob asks"])[0]
    add_reply(app, bob, bobs_top, "Bob answers himself")
    with app.app_context():
        delete_account(vic)
    assert reply_count(app, bobs_top) == 1 and post_count(app, bob) == 2
    assert_counters_match_recount(app)
