"""Deleting an account from Settings: the confirmation it asks for, everything it removes,
every other user's counters afterwards, the notice e-mail (real SMTP server), and follows
of the account racing its deletion on a real gunicorn server."""

from __future__ import annotations

import random
import re
import threading
import time
import urllib.error
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.conftest import HTMX
from tests.conftest import PASSWORD
from tests.conftest import AuthActions
from tests.conftest import add_posts
from tests.conftest import csrf_token
from tests.conftest import csrf_token_from
from tests.conftest import make_app
from tests.conftest import make_user
from tests.servers import Browserless
from tests.servers import free_port
from tests.servers import gunicorn
from tests.servers import site_environment
from tests.smtp import SMTPServer
from webapp.accounts.models import User
from webapp.accounts.models import UserSession
from webapp.conversation.models import Post
from webapp.core.extensions import db
from webapp.counters import user_recounts
from webapp.people.models import follow

NO_USER = "There is no user by that name"
NOT_SENT = "We could not send the e-mail; please try again later."


@pytest.fixture
def app(database_url: str, smtp_server: SMTPServer) -> Flask:
    """The app with its mail going to the real test SMTP server."""
    app = make_app(database_url, **smtp_server.config())
    with app.app_context():
        db.create_all()
    return app


# Helpers --------------------------------------------------------------------------------


def user_id(app: Flask, username: str) -> int | None:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username_canon == username.lower()))


def follow_as(app: Flask, follower: int, followed: int) -> None:
    """A follow made through the app's own service (counters included)."""
    from webapp.people.follows import follow as make_follow

    with app.app_context():
        assert make_follow(follower, followed)


def logged_in_client(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert AuthActions(client).login(username).status_code == 303
    return client


def delete_form_data(settings_page: str, password: str, typed_name: str) -> dict[str, str]:
    """What the Delete account form posts, with the field names its inputs have on the page
    (whatever prefix the form is given to keep ids unique among the page's forms)."""
    section = settings_page.split('id="delete"', 1)[1]
    names = dict.fromkeys(("current_password", "username"), "")
    for name in re.findall(r'<input[^>]* name="([^"]+)"', section):
        for field_name in names:
            if name == field_name or name.endswith(f"-{field_name}"):
                names[field_name] = name
    assert all(names.values()), f"no delete form fields in {section}"
    return {
        "csrf_token": csrf_token_from(settings_page),
        names["current_password"]: password,
        names["username"]: typed_name,
    }


def post_delete(
    client: FlaskClient, password: str, typed_name: str, htmx: bool = False
) -> TestResponse:
    page = client.get("/settings").get_data(as_text=True)
    data = delete_form_data(page, password, typed_name)
    return client.post("/settings/delete", data=data, headers=HTMX if htmx else {})


def counter_mismatches(app: Flask) -> list[tuple]:
    """Every user whose stored counters differ from a recount of the rows they count, as
    (name, stored, recounted) with (posts, followers, following); see webapp/counters.py."""
    recounts = user_recounts()
    posts, followers, following = (
        recounts["post_count"],
        recounts["follower_count"],
        recounts["following_count"],
    )
    with app.app_context():
        rows = db.session.execute(
            select(
                User.username,
                User.post_count,
                User.follower_count,
                User.following_count,
                posts,
                followers,
                following,
            )
        ).all()
    mismatches = []
    for name, *counts in rows:
        stored, recount = tuple(counts[:3]), tuple(counts[3:])
        if stored != recount:
            mismatches.append((name, stored, recount))
    return mismatches


def counters(app: Flask, username: str) -> tuple[int, int, int]:
    """(posts, followers, following) as stored."""
    with app.app_context():
        row = db.session.execute(
            select(User.post_count, User.follower_count, User.following_count).where(
                User.username_canon == username
            )
        ).one()
    return tuple(row)


def rows_of(app: Flask, uid: int) -> dict[str, int]:
    """What the database still holds of user `uid`."""
    with app.app_context():
        count = db.session.scalar
        return {
            "user": count(select(func.count()).select_from(User).where(User.id == uid)),
            "posts": count(select(func.count()).select_from(Post).where(Post.user_id == uid)),
            "follows": count(
                select(func.count())
                .select_from(follow)
                .where(or_(follow.c.follower_id == uid, follow.c.followed_id == uid))
            ),
            "sessions": count(
                select(func.count()).select_from(UserSession).where(UserSession.user_id == uid)
            ),
        }


@pytest.fixture
def community(app: Flask) -> dict[str, int]:
    """Vic (who deletes the account) with comments, following Bob and Carol and followed by
    Bob and Dave; Bob and Carol follow each other and have comments of their own."""
    ids = {name: make_user(app, name) for name in ("vic", "bob", "carol", "dave")}
    add_posts(app, ids["vic"], ["vic one", "vic two", "vic three"])
    add_posts(app, ids["bob"], ["bob one"])
    add_posts(app, ids["carol"], ["carol one", "carol two"])
    for follower, followed in [
        ("vic", "bob"),
        ("vic", "carol"),
        ("bob", "vic"),
        ("dave", "vic"),
        ("bob", "carol"),
        ("carol", "bob"),
    ]:
        follow_as(app, ids[follower], ids[followed])
    return ids


# Confirmation ---------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])
@pytest.mark.parametrize(
    ("password", "typed_name", "field_id", "message"),
    [
        ("not my password", "vic", "current_password", "That is not your current password."),
        (PASSWORD, "bob", "username", "Type vic exactly, to confirm."),
        (PASSWORD, "Vic", "username", "Type vic exactly, to confirm."),
        (PASSWORD, "", "username", "This field is required."),
        ("", "vic", "current_password", "This field is required."),
    ],
    ids=["wrong-password", "other-name", "case-variant", "no-name", "no-password"],
)
def test_password_and_typed_name_are_both_required(
    app: Flask,
    community: dict[str, int],
    smtp_server: SMTPServer,
    htmx: bool,
    password: str,
    typed_name: str,
    field_id: str,
    message: str,
) -> None:
    client = logged_in_client(app, "vic")
    before = rows_of(app, community["vic"])
    response = post_delete(client, password, typed_name, htmx=htmx)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    # The message sits next to its field, in the delete section (the only form with errors).
    section = html.split('id="delete"', 1)[1]
    errors = re.search(
        rf'<ul class="field-errors" id="(?:[\w-]+-)?{field_id}-errors">(.*?)</ul>', section, re.S
    )
    assert errors, section
    assert message in errors.group(1)
    # htmx gets the section alone to swap in; without JS, the whole page.
    assert ("<html" in html) is not htmx
    assert "HX-Redirect" not in response.headers

    assert rows_of(app, community["vic"]) == before
    assert client.get("/settings").status_code == 200  # still logged in
    assert smtp_server.messages == []


def test_delete_needs_a_login_and_a_csrf_token(app: Flask, community: dict[str, int]) -> None:
    anonymous = app.test_client()
    data = {"csrf_token": csrf_token(anonymous), "current_password": PASSWORD, "username": "vic"}
    response = anonymous.post("/settings/delete", data=data)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")

    client = logged_in_client(app, "vic")
    response = client.post(
        "/settings/delete", data={"current_password": PASSWORD, "username": "vic"}
    )
    assert response.status_code == 400
    assert rows_of(app, community["vic"])["user"] == 1


# Deletion -------------------------------------------------------------------------------


@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "no-js"])
def test_deletion_removes_everything_and_corrects_other_counters(
    app: Flask, community: dict[str, int], smtp_server: SMTPServer, htmx: bool
) -> None:
    vic = community["vic"]
    client = logged_in_client(app, "vic")
    other_device = logged_in_client(app, "vic")
    bob = logged_in_client(app, "bob")
    assert rows_of(app, vic) == {"user": 1, "posts": 3, "follows": 4, "sessions": 2}
    # (posts, followers, following) before: Vic follows Bob and Carol, Bob and Dave follow
    # Vic, Bob and Carol follow each other.
    assert counters(app, "bob") == (1, 2, 2)
    assert counters(app, "carol") == (2, 2, 1)
    assert counters(app, "dave") == (0, 0, 1)
    assert bob.get("/user/vic/popup", headers=HTMX).status_code == 200
    assert bob.get("/user/vic").status_code == 200

    response = post_delete(client, PASSWORD, "vic", htmx=htmx)

    if htmx:
        assert response.status_code == 200
        assert response.headers["HX-Redirect"] == "/login"
    else:
        assert response.status_code == 303
        assert response.headers["Location"] == "/login"
    login_page = client.get("/login")
    assert "Your account vic is deleted. Goodbye!" in login_page.get_data(as_text=True)
    assert NOT_SENT not in login_page.get_data(as_text=True)

    assert rows_of(app, vic) == {"user": 0, "posts": 0, "follows": 0, "sessions": 0}
    assert counters(app, "bob") == (1, 1, 1)
    assert counters(app, "carol") == (2, 1, 1)
    assert counters(app, "dave") == (0, 0, 0)
    assert counter_mismatches(app) == []
    # The others' comments and their follows of each other are untouched.
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Post)) == 3
        assert db.session.scalar(select(func.count()).select_from(follow)) == 2

    # Both browsers are logged out: this one forgot its cookie, the other's is dead.
    assert client.get("/settings").status_code == 302
    response = other_device.get("/settings")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")

    # The name is unknown everywhere, as a name that never existed is.
    for path, headers in [("/user/vic/popup", HTMX), ("/user/vic", {}), ("/user/VIC", {})]:
        response = bob.get(path, headers=headers)
        assert response.status_code == 404, path
        assert NO_USER in response.get_data(as_text=True)

    [notice] = smtp_server.wait_for(1)
    assert notice["To"] == "vic@example.com"
    assert notice["Subject"] == "Your account is deleted"
    assert "vic" in notice.get_body(("plain",)).get_content()


@pytest.mark.parametrize("new_name", ["vic", "VIC"])
def test_the_name_and_address_are_free_again(
    app: Flask, community: dict[str, int], auth: AuthActions, new_name: str
) -> None:
    # Taken while the account exists (the case variant too: names are one up to case).
    assert auth.register(new_name, email="new@example.com").status_code == 422
    assert auth.register("newbie", email="vic@example.com").status_code == 422

    assert post_delete(logged_in_client(app, "vic"), PASSWORD, "vic").status_code == 303

    assert auth.register(new_name, email="vic@example.com").status_code == 303
    new_id = user_id(app, new_name)
    assert new_id is not None and new_id != community["vic"]
    # A fresh account: nothing of the old one carried over.
    assert counters(app, new_name.lower()) == (0, 0, 0)
    assert rows_of(app, new_id) == {"user": 1, "posts": 0, "follows": 0, "sessions": 1}
    assert AuthActions(app.test_client()).login(new_name).status_code == 303


def test_mail_server_down_still_deletes_and_says_the_mail_failed(
    app: Flask, community: dict[str, int], smtp_server: SMTPServer
) -> None:
    # Nothing listens on this port: the connection is refused, as when the server is down.
    app.config["MAIL_PORT"] = free_port()
    client = logged_in_client(app, "vic")

    response = post_delete(client, PASSWORD, "vic")

    assert response.status_code == 303
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert "Your account vic is deleted. Goodbye!" in page
    assert NOT_SENT in page
    assert rows_of(app, community["vic"]) == {"user": 0, "posts": 0, "follows": 0, "sessions": 0}
    assert counter_mismatches(app) == []
    assert smtp_server.messages == []


def delete_in_another_request(app: Flask, uid: int) -> None:
    """The deletion as another request makes it: its own thread, app context and connection."""
    from webapp.accounts.deletion import delete_account

    def work() -> None:
        with app.app_context():
            delete_account(uid)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()


@pytest.mark.parametrize(("action", "target"), [("follow", "dave"), ("unfollow", "carol")])
def test_a_follow_by_the_account_as_it_is_deleted_is_no_server_error(
    app: Flask,
    community: dict[str, int],
    monkeypatch: pytest.MonkeyPatch,
    action: str,
    target: str,
) -> None:
    """Vic's phone follows (or unfollows) someone at the moment Vic deletes the account on
    the laptop: the follow commits, then the deletion, then the phone's answer is built. The
    answer may say the session or the name is gone (401/404) or be built from what the
    request read before the deletion (200: the logged-in user is a snapshot, not an ORM
    entity that would be reloaded); it must not fail with a 500, and nothing may be left."""
    from webapp.people import follows

    real_action = getattr(follows, action)

    def then_the_account_is_deleted(follower_id: int, followed_id: int) -> bool:
        changed = real_action(follower_id, followed_id)
        assert changed  # the follow (or unfollow) was real, and committed
        delete_in_another_request(app, follower_id)
        return changed

    # Only the moment is chosen: the follow, the deletion and the database are all real.
    monkeypatch.setattr(follows, action, then_the_account_is_deleted)
    phone = logged_in_client(app, "vic")
    headers = {**HTMX, "X-CSRFToken": csrf_token(phone, "/")}

    response = phone.post(f"/user/{target}/{action}", headers=headers)

    assert response.status_code in (200, 401, 404)
    assert rows_of(app, community["vic"]) == {"user": 0, "posts": 0, "follows": 0, "sessions": 0}
    assert counter_mismatches(app) == []


# Concurrency ----------------------------------------------------------------------------

WORKERS = 4
CLIENTS = 12
VICTIMS = 5
#: How long the follows of each victim run before it deletes its account.
ROUND_SECONDS = 0.4
NO_THROTTLE = {
    "FLASK_RATELIMIT_LOGIN_PER_ADDRESS": "100000 per minute",
    "FLASK_RATELIMIT_LOGIN_SUCCESS_PER_ACCOUNT": "100000 per minute",
}


@dataclass
class Arena:
    """What the client threads share: the victims still to be deleted (the first is next),
    and what they were answered, counted by (action, whom, status), where whom is "victim"
    or "other"."""

    victims: list[str]
    pending: list[str] = field(init=False)
    answers: Counter = field(default_factory=Counter)
    connection_errors: int = 0
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.pending = list(self.victims)

    def next_victim(self) -> str | None:
        with self.lock:
            return self.pending[0] if self.pending else None

    def deleted(self, victim: str) -> None:
        with self.lock:
            self.pending.remove(victim)

    def add(self, key: tuple[str, str, int]) -> None:
        with self.lock:
            self.answers[key] += 1


def keep_following(
    client: Browserless, me: str, others: list[str], arena: Arena, seed: int
) -> None:
    """Follow and unfollow until told to stop: mostly the victim about to delete its account
    (the race under test), else anyone."""
    rng = random.Random(seed)
    everyone = [name for name in others + arena.victims if name != me]
    while not arena.stop.is_set():
        next_victim = arena.next_victim()
        if next_victim is not None and rng.random() < 0.6:
            target = next_victim
        else:
            target = rng.choice(everyone)
        action = rng.choice(["follow", "unfollow"])
        try:
            status, _, _ = client.post_htmx(f"/user/{target}/{action}")
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            with arena.lock:
                arena.connection_errors += 1
            continue
        arena.add((action, "victim" if target in arena.victims else "other", status))


def logged_in_browser(url: str, username: str, page: str) -> tuple[Browserless, str]:
    """A client logged in as `username`, and `page` as it saw it (its CSRF token is kept)."""
    client = Browserless(url)
    assert client.login(username, PASSWORD) == 303, f"{username} could not log in"
    status, html, _ = client.get(page)
    assert status == 200
    return client, html


def test_others_following_them_while_they_delete_keeps_every_counter_true(
    app: Flask, database_url: str, tmp_path: Path, smtp_server: SMTPServer
) -> None:
    """Twelve users follow and unfollow each other and five victims on a gunicorn server with
    four workers, mostly the victim about to go, while the victims delete their accounts one
    after another. Every counter must equal a recount, no answer may be a 5xx, and follows
    of a deleted account are refused with 404."""
    others = [f"other{n}" for n in range(CLIENTS)]
    victims = [f"victim{n}" for n in range(VICTIMS)]
    ids = {name: make_user(app, name) for name in others + victims}
    for victim in victims:
        add_posts(app, ids[victim], [f"{victim} was here"])
    # Follows in both directions to begin with, so each deletion has counters to correct.
    rng = random.Random(7)
    for name in others:
        for victim in victims:
            if rng.random() < 0.5:
                follow_as(app, ids[name], ids[victim])
            if rng.random() < 0.5:
                follow_as(app, ids[victim], ids[name])

    # The notices go to the test's SMTP server (never to the repository's instance/mail/).
    mail = {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(smtp_server.port), "MAIL_USE_TLS": "0"}
    env = site_environment(database_url, **mail, **NO_THROTTLE)
    with gunicorn(tmp_path, env, workers=WORKERS) as server:
        # Everyone logs in before the load starts (at once: each login is a password hash),
        # so each round is all follows.
        with ThreadPoolExecutor(CLIENTS) as pool:
            logins = pool.map(
                lambda who: logged_in_browser(server.url, *who),
                [(name, "/") for name in others] + [(name, "/settings") for name in victims],
            )
            clients = dict(zip(others + victims, logins, strict=True))
        followers = {name: clients[name][0] for name in others}
        deleters = {name: clients[name] for name in victims}
        arena = Arena(victims)
        threads = [
            threading.Thread(target=keep_following, args=(client, name, others, arena, seed))
            for seed, (name, client) in enumerate(followers.items())
        ]
        for thread in threads:
            thread.start()
        deletions: dict[str, tuple[int, str | None]] = {}
        try:
            for victim in victims:
                time.sleep(ROUND_SECONDS)
                deleter, settings_page = deleters[victim]
                data = delete_form_data(settings_page, PASSWORD, victim)
                status, _, headers = deleter.request("POST", "/settings/delete", data)
                deletions[victim] = (status, headers.get("Location"))
                arena.deleted(victim)
            time.sleep(ROUND_SECONDS)  # the deleted accounts are still asked for a moment
        finally:
            arena.stop.set()
            for thread in threads:
                thread.join(timeout=60)

    answers = arena.answers
    print(f"\nanswers {dict(answers)}, connection errors {arena.connection_errors}")
    assert deletions == {victim: (303, "/login") for victim in victims}
    assert arena.connection_errors == 0
    # 200 for everything but follows of an account deleted meanwhile: 404, as for a name
    # that never existed. Never a 5xx.
    assert {key[1:] for key in answers} <= {("other", 200), ("victim", 200), ("victim", 404)}
    # The race really ran: victims were followed while they existed, and refused after.
    assert answers["follow", "victim", 200] > 0
    assert answers["follow", "victim", 404] + answers["unfollow", "victim", 404] > 0
    for victim in victims:
        assert rows_of(app, ids[victim]) == {"user": 0, "posts": 0, "follows": 0, "sessions": 0}
    assert counter_mismatches(app) == []
    notices = smtp_server.wait_for(VICTIMS)
    assert sorted(str(message["To"]) for message in notices) == [
        f"{victim}@example.com" for victim in victims
    ]
