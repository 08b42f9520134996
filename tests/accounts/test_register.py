"""Registration: field rules, uniqueness decided by the database, and the race for a name."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func
from sqlalchemy import select

from tests.conftest import PASSWORD
from tests.conftest import AuthActions
from tests.conftest import make_app
from tests.smtp import SMTPServer
from tests.smtp import link_in
from webapp.accounts import credentials as accounts
from webapp.accounts.models import User
from webapp.core.extensions import db


def user_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def get_user(app: Flask, canon: str) -> User | None:
    with app.app_context():
        return db.session.scalar(select(User).where(User.username_canon == canon))


def test_register_page_has_the_seed_fields(client: FlaskClient) -> None:
    html = client.get("/register").get_data(as_text=True)
    for name in ("username", "email", "password", "confirm_password", "csrf_token"):
        assert f'name="{name}"' in html


def test_success_logs_in_and_asks_to_confirm_the_address(
    database_url: str, smtp_server: SMTPServer
) -> None:
    app = make_app(database_url, **smtp_server.config())
    with app.app_context():
        db.create_all()
    client = app.test_client()
    response = AuthActions(client).sign_up("Alice_1", email="Alice.Smith@Example.COM")
    assert response.status_code == 303
    assert response.location == "/"
    page = client.get("/")
    assert page.status_code == 200  # logged in: the feed, not a redirect to /login
    html = page.get_data(as_text=True)
    assert "Welcome, Alice_1!" in html
    assert "Please confirm your e-mail address" in html
    assert 'href="/settings#email"' in html
    user = get_user(app, "alice_1")
    assert user is not None
    assert user.username == "Alice_1"
    # Domain lower-cased by email-validator, the local part by us: one address, one account.
    assert user.email == "alice.smith@example.com"
    assert user.email_confirmed_at is None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "alice.smith@example.com"
    assert message["Subject"] == "Confirm your e-mail address"
    assert link_in(message, "/confirm_email/")


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("ab", "3 to 30 characters"),
        ("a" * 31, "3 to 30 characters"),
        ("has space", "letters (a-z), digits and underscores"),
        ("dash-name", "letters (a-z), digits and underscores"),
        ("<script>", "letters (a-z), digits and underscores"),
        ("nul\x00byte", "letters (a-z), digits and underscores"),
        ("ßeta", "letters (a-z), digits and underscores"),
        ("Алиса", "letters (a-z), digits and underscores"),
    ],
)
def test_username_rules(app: Flask, auth: AuthActions, username: str, message: str) -> None:
    response = auth.register(username, email="someone@example.com")
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user_count(app) == 0


@pytest.mark.parametrize("variant", ["alice", "ALICE", "Alice", "ａｌｉｃｅ", "ＡＬＩＣＥ"])
def test_username_unique_after_nfkc_and_casefold(
    app: Flask, auth: AuthActions, variant: str
) -> None:
    assert auth.register("Alice", email="first@example.com").status_code == 303
    response = auth.register(variant, email="second@example.com")
    assert response.status_code == 422
    assert accounts.USERNAME_TAKEN in response.get_data(as_text=True)
    assert user_count(app) == 1


def test_fullwidth_name_is_stored_in_its_plain_form(app: Flask, auth: AuthActions) -> None:
    assert auth.register("ｂｏｂ_７", email="bob@example.com").status_code == 303
    assert get_user(app, "bob_7").username == "bob_7"


@pytest.mark.parametrize(
    "variant", ["ALICE@example.com", "alice@EXAMPLE.com", " alice@example.com "]
)
def test_email_unique_case_insensitively(app: Flask, auth: AuthActions, variant: str) -> None:
    assert auth.register("alice", email="alice@example.com").status_code == 303
    response = auth.register("bob", email=variant)
    assert response.status_code == 422
    assert accounts.EMAIL_TAKEN in response.get_data(as_text=True)
    assert user_count(app) == 1


@pytest.mark.parametrize(
    "email",
    ["not-an-email", "a@b", "two@@example.com", "x" * 250 + "@example.com", "nul\x00@example.com"],
)
def test_invalid_email(app: Flask, auth: AuthActions, email: str) -> None:
    response = auth.register("alice", email=email)
    assert response.status_code == 422
    assert 'id="email-errors"' in response.get_data(as_text=True)
    assert user_count(app) == 0


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short1!", "at least 8 characters"),
        ("password", "too common"),
        ("Password1", "too common"),
        ("qwertyuiop", "too common"),
        ("x" * 1025, "at most 1024 characters"),
    ],
)
def test_password_rules(app: Flask, auth: AuthActions, password: str, message: str) -> None:
    response = auth.register("alice", password=password)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert user_count(app) == 0


@pytest.mark.parametrize(
    "password",
    [
        "a long passphrase of many words that nobody would ever guess " * 3,
        "пароль-из-кириллицы",
        "日本語のパスワードです",
        "emoji 🐍🔑 secret",
    ],
)
def test_passphrases_and_unicode_are_accepted(
    app: Flask, client: FlaskClient, auth: AuthActions, password: str
) -> None:
    assert auth.register("alice", password=password).status_code == 303
    assert auth.login("alice", password=password).status_code == 303


def test_confirmation_must_match(app: Flask, auth: AuthActions) -> None:
    response = auth.register("alice", confirm_password=PASSWORD + "!")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "The passwords do not match." in html
    assert 'id="confirm_password-errors"' in html
    assert user_count(app) == 0


def test_errors_sit_next_to_their_fields(auth: AuthActions) -> None:
    html = auth.register("a", email="nope", password="short").get_data(as_text=True)
    for field in ("username", "email", "password"):
        assert f'aria-describedby="{field}-errors"' in html
        assert f'id="{field}-errors"' in html


def test_lost_race_for_a_name_is_a_form_error(
    app: Flask, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two registrations of one name at the same moment: both pass the look-up, the second
    insert meets the unique constraint. Forced here by letting the look-up see nothing, as
    it would have before the rival committed."""
    assert auth.register("alice", email="alice@example.com").status_code == 303
    monkeypatch.setattr(accounts, "taken_fields", lambda *args: {})
    response = auth.register("ALICE", email="other@example.com")
    assert response.status_code == 422
    assert "That username is taken" in response.get_data(as_text=True)
    assert user_count(app) == 1
    assert get_user(app, "alice").email == "alice@example.com"


def test_lost_race_for_an_email_is_a_form_error(
    app: Flask, auth: AuthActions, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert auth.register("alice", email="alice@example.com").status_code == 303
    real_taken_fields = accounts.taken_fields
    calls = []

    def blind_first_time(*args: str) -> dict[str, str]:
        calls.append(args)
        return {} if len(calls) == 1 else real_taken_fields(*args)

    monkeypatch.setattr(accounts, "taken_fields", blind_first_time)
    response = auth.register("bob", email="Alice@Example.com")
    assert response.status_code == 422
    assert accounts.EMAIL_TAKEN in response.get_data(as_text=True)
    assert user_count(app) == 1


def test_logged_in_user_visiting_register_goes_to_the_feed(
    client: FlaskClient, auth: AuthActions
) -> None:
    auth.register()
    auth.login()
    response = client.get("/register")
    assert response.status_code == 302
    assert response.location == "/"


def test_simultaneous_registrations_of_one_name(app: Flask) -> None:
    """Eight clients register the same name (in eight spellings) at once: exactly one
    account, the others get the form error, nobody gets a 500."""
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from tests.conftest import csrf_token

    spellings = ["carol", "Carol", "CAROL", "ｃａｒｏｌ", "cArol", "caRol", "carOl", "caroL"]
    clients = [app.test_client() for _ in spellings]
    tokens = [csrf_token(c, "/register") for c in clients]
    barrier = Barrier(len(spellings))

    def register(index: int) -> int:
        barrier.wait()
        return (
            clients[index]
            .post(
                "/register",
                data={
                    "csrf_token": tokens[index],
                    "username": spellings[index],
                    "email": f"carol{index}@example.com",
                    "password": PASSWORD,
                    "confirm_password": PASSWORD,
                },
            )
            .status_code
        )

    with ThreadPoolExecutor(len(spellings)) as pool:
        statuses = sorted(pool.map(register, range(len(spellings))))
    assert statuses == [303] + [422] * (len(spellings) - 1)
    assert user_count(app) == 1
