"""The account's e-mail address, against a real SMTP server (tests/smtp.py): confirming it
(the link mailed at registration, or again from Settings), changing it (a link to the new
address, a notice to the old), what counts as the same address, throttling, and a mail
server that is down, slow or refusing."""

from __future__ import annotations

import logging
import time
import unicodedata
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import TimestampSigner
from sqlalchemy import func
from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.conftest import HTMX
from tests.conftest import PASSWORD
from tests.conftest import AuthActions
from tests.conftest import csrf_token
from tests.conftest import make_app
from tests.smtp import MAIL_FAILURES
from tests.smtp import SMTPServer
from tests.smtp import failing_mail
from tests.smtp import link_in
from webapp.accounts import tokens
from webapp.accounts.models import User
from webapp.core.extensions import db

NOT_SENT = "We could not send the e-mail; please try again later."
REFUSED_LINK = "This link cannot be used"
TAKEN = "That email address is already registered."
NEW_PASSWORD = "a brand new passphrase, long enough"
JOSE_NFC = unicodedata.normalize("NFC", "josé@example.com")
JOSE_NFD = unicodedata.normalize("NFD", "josé@example.com")


def site(database_url: str, smtp_server: SMTPServer, **overrides) -> Flask:
    """The app, sending mail to the test's SMTP server, on a fresh (or this test's) database."""
    app = make_app(database_url, **{**smtp_server.config(), **overrides})
    with app.app_context():
        db.create_all()
    return app


@pytest.fixture
def mail_app(database_url: str, smtp_server: SMTPServer) -> Flask:
    return site(database_url, smtp_server)


def sign_up(app: Flask, username: str = "alice", email: str | None = None) -> FlaskClient:
    """A browser where `username` has just registered (and so is logged in)."""
    client = app.test_client()
    response = AuthActions(client).sign_up(username, email)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def stored(app: Flask, username: str = "alice") -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username_canon == username))
        db.session.expunge(user)
        return user


def path_of(url: str) -> str:
    return url.removeprefix("http://127.0.0.1:5000")


def settings_post(client: FlaskClient, path: str, htmx: bool = True, **data: str) -> TestResponse:
    token = csrf_token(client, "/settings")
    if htmx:
        return client.post(path, data=data, headers={**HTMX, "X-CSRFToken": token})
    return client.post(path, data={"csrf_token": token, **data})


def ask_change(
    client: FlaskClient, email: str, password: str = PASSWORD, htmx: bool = True
) -> TestResponse:
    return settings_post(
        client, "/settings/email", htmx=htmx, email=email, current_password=password
    )


def press_button(client: FlaskClient, path: str) -> TestResponse:
    """The button on the page a link opens: a form with only the session's CSRF token (read
    from a page that always has a form, logged in or not: a refused link's page has none)."""
    return client.post(path, data={"csrf_token": csrf_token(client, "/reset_password")})


def token_made_ago(app: Flask, purpose: tokens.Purpose, age: timedelta, **extra) -> str:
    """A real token for alice, made as if `age` ago: only its creation sees the older clock."""
    made_at = int(time.time() - age.total_seconds())
    with app.app_context(), pytest.MonkeyPatch.context() as patch:
        patch.setattr(TimestampSigner, "get_timestamp", lambda signer: made_at)
        user = db.session.scalar(select(User).where(User.username_canon == "alice"))
        return tokens.make_token(purpose, user, **extra)


def user_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(User))


def no_more_mail(smtp_server: SMTPServer, expected: int) -> None:
    time.sleep(0.2)  # give a stray message time to arrive
    assert len(smtp_server.messages) == expected, [m["Subject"] for m in smtp_server.messages]


# Confirming the address ------------------------------------------------------------------


def test_registering_mails_a_link_whose_button_confirms_the_address(
    mail_app: Flask, smtp_server: SMTPServer
) -> None:
    client = sign_up(mail_app)
    [message] = smtp_server.wait_for(1)
    assert message["To"] == "alice@example.com"
    assert message["Subject"] == "Confirm your e-mail address"
    link = link_in(message, "/confirm_email/")
    assert link in message.get_body(("plain",)).get_content()
    assert f'href="{link}"' in message.get_body(("html",)).get_content()
    assert "48 hours" in message.get_body(("plain",)).get_content()

    settings = client.get("/settings").get_data(as_text=True)
    assert "unconfirmed</span>" in settings
    assert "Send the confirmation link again" in settings

    # Opening the link (a mail scanner does, logged in or not) changes nothing.
    for visitor in (client, mail_app.test_client()):
        page = visitor.get(path_of(link))
        assert page.status_code == 200
        assert "Confirm my address" in page.get_data(as_text=True)
    assert visitor.post(path_of(link)).status_code == 400  # no CSRF token: not our form
    assert stored(mail_app).email_confirmed_at is None

    response = press_button(client, path_of(link))
    assert response.status_code == 303 and response.location == "/settings#email"
    assert stored(mail_app).email_confirmed_at is not None
    settings = client.get("/settings").get_data(as_text=True)
    assert "confirmed</span>" in settings and "unconfirmed" not in settings
    assert "Send the confirmation link again" not in settings


@pytest.mark.parametrize(("hours", "status"), [(47, 200), (49, 400)])
def test_a_confirmation_link_lasts_48_hours(mail_app: Flask, hours: int, status: int) -> None:
    sign_up(mail_app)
    token = token_made_ago(mail_app, tokens.CONFIRM_EMAIL, timedelta(hours=hours))
    client = mail_app.test_client()
    assert client.get(f"/confirm_email/{token}").status_code == status
    assert press_button(client, f"/confirm_email/{token}").status_code == (
        303 if status == 200 else 400
    )
    assert (stored(mail_app).email_confirmed_at is not None) is (status == 200)


def test_a_confirmation_link_for_an_address_the_account_left_is_refused(
    mail_app: Flask, smtp_server: SMTPServer
) -> None:
    client = sign_up(mail_app)
    link = path_of(link_in(smtp_server.wait_for(1)[0], "/confirm_email/"))
    with mail_app.app_context():
        user = db.session.get(User, stored(mail_app).id)
        user.email = "alice@elsewhere.example"  # unconfirmed, like after a change by an admin
        db.session.commit()
    page = client.get(link)
    assert page.status_code == 400 and REFUSED_LINK in page.get_data(as_text=True)
    assert 'href="/settings#email"' in page.get_data(as_text=True)
    assert press_button(client, link).status_code == 400
    assert stored(mail_app).email_confirmed_at is None


def test_the_link_can_be_sent_again_from_settings_a_few_times(
    database_url: str, smtp_server: SMTPServer
) -> None:
    app = site(database_url, smtp_server, RATELIMIT_CONFIRMATION_PER_USER="2 per hour")
    client = sign_up(app)
    smtp_server.wait_for(1)
    smtp_server.clear()
    for n in range(2):
        response = settings_post(client, "/settings/email/confirmation")
        assert response.status_code == 200
        assert "We have sent a confirmation link to alice@example.com." in response.get_data(
            as_text=True
        )
        assert len(smtp_server.wait_for(n + 1)) == n + 1
    refused = settings_post(client, "/settings/email/confirmation")
    assert refused.status_code == 429
    assert "Too many confirmation e-mails" in refused.get_data(as_text=True)
    no_more_mail(smtp_server, 2)
    # Someone else, from the same network, is counted on their own.
    bob = sign_up(app, "bob")
    assert settings_post(bob, "/settings/email/confirmation").status_code == 200

    # The link sent again confirms; then Settings says so and offers nothing to send.
    link = path_of(link_in(smtp_server.messages[1], "/confirm_email/"))
    assert press_button(client, link).status_code == 303
    settings = client.get("/settings").get_data(as_text=True)
    assert "confirmed</span>" in settings and "Send the confirmation link again" not in settings


# Changing the address --------------------------------------------------------------------


def test_changing_the_address_takes_the_password_a_link_and_its_button(
    mail_app: Flask, smtp_server: SMTPServer
) -> None:
    client = sign_up(mail_app)
    smtp_server.wait_for(1)
    smtp_server.clear()

    wrong = ask_change(client, "alice@new.example", password="not my password")
    assert wrong.status_code == 422
    assert "That is not your current password." in wrong.get_data(as_text=True)
    no_more_mail(smtp_server, 0)

    response = ask_change(client, "Alice@New.Example", htmx=False)
    assert response.status_code == 303 and response.location == "/settings#email"
    page = client.get("/settings").get_data(as_text=True)
    assert "We have sent a link to alice@new.example." in page
    link_message, notice = smtp_server.wait_for(2)
    assert link_message["To"] == "alice@new.example"
    assert link_message["Subject"] == "Confirm your new e-mail address"
    assert "30 minutes" in link_message.get_body(("plain",)).get_content()
    link = link_in(link_message, "/change_email/")
    assert f'href="{link}"' in link_message.get_body(("html",)).get_content()
    assert notice["To"] == "alice@example.com"
    assert notice["Subject"] == "Your e-mail address is changing"
    assert "alice@new.example" in notice.get_body(("plain",)).get_content()
    assert "/change_email/" not in notice.as_string()  # the link goes to the new address only
    assert stored(mail_app).email == "alice@example.com"

    # Opening the link changes nothing; its button does. Whoever holds the link (a mistyped
    # address reaches a stranger) does not learn the account's current address from it.
    page = mail_app.test_client().get(path_of(link))
    assert page.status_code == 200
    assert "Use this address" in page.get_data(as_text=True)
    assert "alice@example.com" not in page.get_data(as_text=True)
    assert stored(mail_app).email == "alice@example.com"
    response = press_button(client, path_of(link))
    assert response.status_code == 303
    assert "Your e-mail address is now alice@new.example." in client.get("/settings").get_data(
        as_text=True
    )
    user = stored(mail_app)
    assert user.email == "alice@new.example" and user.email_confirmed_at is not None

    # Once only.
    for again in (client.get(path_of(link)), press_button(client, path_of(link))):
        assert again.status_code == 400
        assert "Address change links work once" in again.get_data(as_text=True)
    assert stored(mail_app).email == "alice@new.example"


def test_a_change_link_dies_when_the_password_changes(
    mail_app: Flask, smtp_server: SMTPServer
) -> None:
    """The notice tells the owner someone asked; changing the password stops it."""
    client = sign_up(mail_app)
    ask_change(client, "mallory@evil.example")
    link = path_of(link_in(smtp_server.wait_for(3)[1], "/change_email/"))
    response = change_password(client)
    assert response.status_code == 200
    attacker = mail_app.test_client()
    assert attacker.get(link).status_code == 400
    assert press_button(attacker, link).status_code == 400
    assert stored(mail_app).email == "alice@example.com"


@pytest.mark.parametrize(("minutes", "status"), [(29, 200), (31, 400)])
def test_a_change_link_lasts_30_minutes(mail_app: Flask, minutes: int, status: int) -> None:
    sign_up(mail_app)
    token = token_made_ago(
        mail_app, tokens.CHANGE_EMAIL, timedelta(minutes=minutes), new_email="alice@new.example"
    )
    client = mail_app.test_client()
    assert client.get(f"/change_email/{token}").status_code == status
    press_button(client, f"/change_email/{token}")
    expected = "alice@new.example" if status == 200 else "alice@example.com"
    assert stored(mail_app).email == expected


def test_a_link_for_an_address_taken_meanwhile_is_refused_clearly(
    mail_app: Flask, smtp_server: SMTPServer
) -> None:
    client = sign_up(mail_app)
    ask_change(client, "carol@example.com")
    link = path_of(link_in(smtp_server.wait_for(3)[1], "/change_email/"))
    sign_up(mail_app, "carol", "Carol@Example.COM")  # the same address, written otherwise
    assert client.get(link).status_code == 200
    response = press_button(client, link)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert TAKEN in page and "Your account keeps its current address." in page
    assert stored(mail_app).email == "alice@example.com"
    assert stored(mail_app, "carol").email == "carol@example.com"
    assert client.get("/settings").status_code == 200  # the session survived the rollback


# The same address, written otherwise -----------------------------------------------------

VARIANTS = [
    ("alice@example.com", "Alice@Example.COM"),
    ("Alice@Example.COM", " alice@EXAMPLE.com "),
    (JOSE_NFC, JOSE_NFD),
    (JOSE_NFD, "JOSÉ@Example.com"),
]


@pytest.mark.parametrize(("first", "second"), VARIANTS)
def test_registering_with_a_variant_of_a_taken_address_is_refused(
    mail_app: Flask, first: str, second: str
) -> None:
    assert first != second
    sign_up(mail_app, "first", first)
    response = AuthActions(mail_app.test_client()).sign_up("second", second)
    assert response.status_code == 422
    assert TAKEN in response.get_data(as_text=True)
    assert user_count(mail_app) == 1


@pytest.mark.parametrize(("first", "second"), VARIANTS)
def test_changing_to_a_variant_of_a_taken_address_is_refused(
    mail_app: Flask, smtp_server: SMTPServer, first: str, second: str
) -> None:
    sign_up(mail_app, "first", first)
    bob = sign_up(mail_app, "bob")
    smtp_server.wait_for(2)
    smtp_server.clear()
    response = ask_change(bob, second)
    assert response.status_code == 422
    assert TAKEN in response.get_data(as_text=True)
    no_more_mail(smtp_server, 0)
    # And a variant of one's own address is no change at all.
    first_client = mail_app.test_client()
    AuthActions(first_client).login("first")
    own = ask_change(first_client, second)
    assert own.status_code == 422
    assert "That is your address already." in own.get_data(as_text=True)
    no_more_mail(smtp_server, 0)


def test_address_changes_are_throttled_per_user(database_url: str, smtp_server: SMTPServer) -> None:
    app = site(database_url, smtp_server, RATELIMIT_EMAIL_CHANGE_PER_USER="2 per hour")
    client = sign_up(app)
    smtp_server.wait_for(1)
    smtp_server.clear()
    # Wrong passwords count too: the form must not be a way to guess it.
    assert ask_change(client, "a@new.example", password="guess one").status_code == 422
    assert ask_change(client, "b@new.example").status_code == 200
    refused = ask_change(client, "c@new.example")
    assert refused.status_code == 429
    assert "Too many address changes" in refused.get_data(as_text=True)
    no_more_mail(smtp_server, 2)  # the link and the notice of the one accepted request
    bob = sign_up(app, "bob")
    assert ask_change(bob, "bob@new.example").status_code == 200


# The mail server fails -------------------------------------------------------------------


def change_password(client: FlaskClient) -> TestResponse:
    """Settings > Password, from PASSWORD to NEW_PASSWORD, with htmx."""
    return settings_post(
        client,
        "/settings/password",
        current_password=PASSWORD,
        password=NEW_PASSWORD,
        confirm_password=NEW_PASSWORD,
    )


def failing_site(database_url: str, smtp_server: SMTPServer, failure: str) -> Flask:
    """The app with a mail server that fails in this way."""
    return site(database_url, smtp_server, **failing_mail(smtp_server, failure))


def assert_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("Mail to @" in text and "not sent" in text for text in errors), errors


@pytest.mark.parametrize("failure", MAIL_FAILURES)
def test_registration_succeeds_and_says_the_link_was_not_sent(
    database_url: str, smtp_server: SMTPServer, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    app = failing_site(database_url, smtp_server, failure)
    client = sign_up(app)
    page = client.get("/").get_data(as_text=True)
    assert NOT_SENT in page
    assert user_count(app) == 1
    assert_logged(caplog)


@pytest.mark.parametrize("failure", MAIL_FAILURES)
def test_sending_the_confirmation_again_fails_clearly(
    database_url: str, smtp_server: SMTPServer, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    app = failing_site(database_url, smtp_server, failure)
    client = sign_up(app)
    caplog.clear()
    response = settings_post(client, "/settings/email/confirmation")
    assert response.status_code == 422
    assert NOT_SENT in response.get_data(as_text=True)
    assert_logged(caplog)
    assert stored(app).email_confirmed_at is None


@pytest.mark.parametrize("htmx", [True, False])
@pytest.mark.parametrize("failure", MAIL_FAILURES)
def test_an_address_change_fails_clearly_and_changes_nothing(
    database_url: str,
    smtp_server: SMTPServer,
    caplog: pytest.LogCaptureFixture,
    failure: str,
    htmx: bool,
) -> None:
    app = failing_site(database_url, smtp_server, failure)
    client = sign_up(app)
    caplog.clear()
    response = ask_change(client, "alice@new.example", htmx=htmx)
    assert response.status_code == 422
    assert NOT_SENT in response.get_data(as_text=True)
    assert_logged(caplog)
    user = stored(app)
    assert user.email == "alice@example.com"
    # No notice to the old address of a change that did not start. (A slow server may still
    # take the messages it was too slow to acknowledge, hence the wait.)
    time.sleep(2 if failure == "slow" else 0.2)
    assert "Your e-mail address is changing" not in [m["Subject"] for m in smtp_server.messages]


@pytest.mark.parametrize("failure", MAIL_FAILURES)
def test_a_notice_that_cannot_be_sent_is_reported_after_the_change(
    database_url: str, smtp_server: SMTPServer, caplog: pytest.LogCaptureFixture, failure: str
) -> None:
    app = failing_site(database_url, smtp_server, failure)
    client = sign_up(app)
    caplog.clear()
    response = change_password(client)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Your password is changed." in page and NOT_SENT in page
    assert_logged(caplog)
    assert AuthActions(app.test_client()).login("alice", NEW_PASSWORD).status_code == 303
