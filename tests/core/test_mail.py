"""Outgoing mail, against a real SMTP server (tests/smtp.py): what arrives, where links point,
the outbox without a server, and every way the server can fail."""

from __future__ import annotations

import logging
import os
import smtplib
import time
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from flask import Flask
from flask import request

import webapp
from tests.conftest import TEST_SECRET_KEY
from tests.conftest import make_app
from tests.servers import free_port
from tests.smtp import SMTPServer
from tests.smtp import link_in
from webapp import create_app
from webapp.core.config import ConfigError
from webapp.core.config import mail_defaults
from webapp.core.mail import MailNotSent
from webapp.core.mail import build_message
from webapp.core.mail import deliver_in_background
from webapp.core.mail import external_url
from webapp.core.mail import send_mail
from webapp.core.mail import send_mail_in_background
from webapp.core.mail import wait_for_background_mail

PUBLIC = "https://feed.example.com"
SENDER = "Hoverfeed <no-reply@feed.example.com>"
NOT_SENT = "We could not send the e-mail; please try again later."


def mail_app(database_url: str, smtp_server: SMTPServer | None = None, **overrides) -> Flask:
    settings = smtp_server.config() if smtp_server else {"MAIL_SERVER": ""}
    return make_app(
        database_url,
        PUBLIC_URL=PUBLIC + "/",  # the trailing slash must not double up in links
        MAIL_DEFAULT_SENDER=SENDER,
        **{**settings, **overrides},
    )


def notice(**context) -> dict:
    return {
        "heading": "Your password was changed",
        "body": "Tom & Jerry <b>changed</b> it.",
        **context,
    }


def test_message_arrives_with_both_parts_and_links_from_public_url(
    database_url: str, smtp_server: SMTPServer
) -> None:
    app = mail_app(database_url, smtp_server)
    # A request whose Host an attacker chose: the link must not take it.
    with app.test_request_context("/", base_url="http://evil.example"):
        assert request.host == "evil.example"
        login = external_url("auth.login", next="/settings")
        send_mail(
            "Bob <bob@example.com>",
            "Your password was changed",
            "notice",
            **notice(action_url=login, action_label="Log in"),
        )
    [message] = smtp_server.wait_for(1)
    assert message["From"] == SENDER
    assert message["To"] == "Bob <bob@example.com>"
    assert message["Subject"] == "Your password was changed"
    assert message["Date"].datetime is not None
    assert message["Message-ID"].endswith("@feed.example.com>")
    assert smtp_server.envelopes == [("no-reply@feed.example.com", ["bob@example.com"])]

    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    # The text part is not HTML-escaped; the HTML part is.
    assert "Tom & Jerry <b>changed</b> it." in text
    assert "Tom &amp; Jerry &lt;b&gt;changed&lt;/b&gt; it." in html
    assert "<b>" not in html
    assert "Hoverfeed" in text.splitlines()[-1]

    assert link_in(message, "/login", public_url=PUBLIC) == f"{PUBLIC}/login?next=/settings"
    assert f'href="{PUBLIC}/login?next=/settings"' in html
    assert "evil.example" not in message.as_string()


def test_external_url_needs_no_request_and_keeps_a_path_prefix(database_url: str) -> None:
    app = make_app(database_url, PUBLIC_URL="https://example.org/hoverfeed/")
    with app.app_context():  # as in a background thread or a command: no request at all
        assert external_url("auth.login") == "https://example.org/hoverfeed/login"
        assert external_url("feed.index", _anchor="new") == "https://example.org/hoverfeed/#new"
    # Tests and development default to the development server.
    with make_app(database_url).app_context():
        assert external_url("auth.login") == "http://127.0.0.1:5000/login"


def test_without_mail_server_the_message_goes_to_the_outbox(
    database_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = mail_app(database_url, MAIL_OUTBOX=None)  # the default: instance/mail
    app.instance_path = str(tmp_path / "instance")
    caplog.set_level(logging.INFO, logger=app.logger.name)
    with app.app_context():
        send_mail("bob@example.com", "A notice", "notice", **notice())
    [path] = (tmp_path / "instance" / "mail").iterdir()
    assert path.suffix == ".eml" and not path.name.startswith(".")  # no temporary left over
    message = message_from_bytes(path.read_bytes(), policy=default_policy)
    assert message["To"] == "bob@example.com" and message["Subject"] == "A notice"
    assert "Tom & Jerry <b>changed</b> it." in message.get_body(("plain",)).get_content()
    assert str(path) in caplog.text


def test_server_down_raises_mail_not_sent_and_logs(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    nobody = free_port()  # nothing listens there
    app = mail_app(
        database_url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=nobody,
        MAIL_USE_TLS=False,
        MAIL_USERNAME="hoverfeed",
        MAIL_PASSWORD="hunter2-secret",
    )
    with app.app_context(), pytest.raises(MailNotSent) as error:
        send_mail("bob@example.com", "A notice", "notice", **notice())
    assert str(error.value) == NOT_SENT
    assert isinstance(error.value.__cause__, ConnectionRefusedError)
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert f"127.0.0.1:{nobody}" in record.getMessage() and "@example.com" in record.getMessage()
    assert "bob@" not in caplog.text and "hunter2" not in caplog.text


@pytest.mark.parametrize(
    ("switch", "cause", "code"),
    [
        ("refuse", smtplib.SMTPRecipientsRefused, "550"),
        ("refuse_data", smtplib.SMTPDataError, "554"),
    ],
)
def test_refusing_server_raises_mail_not_sent(
    database_url: str,
    smtp_server: SMTPServer,
    caplog: pytest.LogCaptureFixture,
    switch: str,
    cause: type,
    code: str,
) -> None:
    setattr(smtp_server, switch, True)
    app = mail_app(database_url, smtp_server)
    with app.app_context(), pytest.raises(MailNotSent) as error:
        send_mail("bob@example.com", "A notice", "notice", **notice())
    assert isinstance(error.value.__cause__, cause)
    assert code in caplog.text and "bob@" not in caplog.text
    assert smtp_server.messages == []


def test_slow_server_times_out(database_url: str, smtp_server: SMTPServer) -> None:
    smtp_server.delay = 3.0
    app = mail_app(database_url, smtp_server, MAIL_TIMEOUT=1)
    started = time.monotonic()
    with app.app_context(), pytest.raises(MailNotSent) as error:
        send_mail("bob@example.com", "A notice", "notice", **notice())
    assert 0.9 < time.monotonic() - started < 2.5
    # smtplib reports a reply that did not come in time as a disconnection.
    assert "timed out" in str(error.value.__cause__)


def test_login_with_username_and_password(database_url: str, smtp_server: SMTPServer) -> None:
    smtp_server.credentials = ("hoverfeed", "right password")
    app = mail_app(database_url, smtp_server, MAIL_USERNAME="hoverfeed")
    with app.app_context():
        with pytest.raises(MailNotSent) as error:  # wrong password: 535
            send_mail("bob@example.com", "A notice", "notice", **notice())
        assert isinstance(error.value.__cause__, smtplib.SMTPAuthenticationError)
        app.config["MAIL_PASSWORD"] = "right password"
        send_mail("bob@example.com", "A notice", "notice", **notice())
    # smtplib tries each mechanism the server offers before giving up, hence several.
    assert {login for login, _ in smtp_server.logins} == {"hoverfeed"}
    assert smtp_server.logins[-1] == ("hoverfeed", "right password")
    assert len(smtp_server.wait_for(1)) == 1


def test_background_sending_delivers_without_making_the_caller_wait(
    database_url: str, smtp_server: SMTPServer
) -> None:
    smtp_server.delay = 1.0
    app = mail_app(database_url, smtp_server)
    with app.test_request_context("/", base_url="http://evil.example"):
        started = time.monotonic()
        send_mail_in_background(
            "bob@example.com",
            "Reset your password",
            "notice",
            **notice(action_url=external_url("auth.login")),
        )
        assert time.monotonic() - started < 0.5
    [message] = smtp_server.wait_for(1)
    assert link_in(message, "/login", public_url=PUBLIC) == f"{PUBLIC}/login"
    assert wait_for_background_mail(app, timeout=5)


def test_deliver_in_background_needs_no_app_context(
    database_url: str, smtp_server: SMTPServer
) -> None:
    app = mail_app(database_url, smtp_server)
    with app.app_context():
        message = build_message("bob@example.com", "A notice", "notice", **notice())
    deliver_in_background(app, message)  # as from response.call_on_close: no context at all
    [received] = smtp_server.wait_for(1)
    assert received["Message-ID"] == message["Message-ID"]
    assert wait_for_background_mail(app, timeout=5)


def test_background_failures_are_only_logged(
    database_url: str, smtp_server: SMTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    smtp_server.refuse = True
    app = mail_app(database_url, smtp_server)
    with app.test_request_context("/"):
        future = send_mail_in_background("bob@example.com", "A notice", "notice", **notice())
    assert wait_for_background_mail(app, timeout=10)
    assert future.exception() is None
    assert "not sent" in caplog.text and "550" in caplog.text
    assert smtp_server.messages == []


# Configuration ------------------------------------------------------------------------------


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    """A production start (neither debug nor testing) with a good key and no .env file."""
    for name in list(os.environ):
        if name.startswith(("FLASK_", "MAIL_")) or name in {"SECRET_KEY", "PUBLIC_URL"}:
            monkeypatch.delenv(name)
    monkeypatch.setattr(webapp, "ENV_FILE", tmp_path / "no.env")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SECRET_KEY", TEST_SECRET_KEY)


@pytest.mark.usefixtures("production_env")
def test_production_requires_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as error:
        create_app()
    assert "PUBLIC_URL=https://feed.example.com" in str(error.value)
    monkeypatch.setenv("PUBLIC_URL", "")
    with pytest.raises(ConfigError):
        create_app()


def test_tests_never_write_to_the_instance_outbox(database_url: str, mail_outbox: Path) -> None:
    app = make_app(database_url)
    with app.app_context():
        send_mail("bob@example.com", "A notice", "notice", **notice())
    assert len(list(mail_outbox.glob("*.eml"))) == 1


@pytest.mark.usefixtures("production_env")
def test_production_without_mail_server_warns_of_the_outbox(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("PUBLIC_URL", "https://feed.example.com/")
    app = create_app()
    assert app.config["PUBLIC_URL"] == "https://feed.example.com"
    assert "MAIL_SERVER is not set" in caplog.text
    assert str(Path(app.instance_path) / "mail") in caplog.text


@pytest.mark.parametrize("url", ["feed.example.com", "ftp://feed.example.com", "https://x.org/?a"])
def test_public_url_must_be_a_site_address(database_url: str, url: str) -> None:
    with pytest.raises(ConfigError):
        make_app(database_url, PUBLIC_URL=url)


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({}, {"MAIL_PORT": 587, "MAIL_USE_TLS": True, "MAIL_USE_SSL": False}),
        ({"MAIL_USE_SSL": "yes"}, {"MAIL_PORT": 465, "MAIL_USE_TLS": False, "MAIL_USE_SSL": True}),
        ({"MAIL_PORT": "25", "MAIL_USE_TLS": "0"}, {"MAIL_PORT": 25, "MAIL_USE_TLS": False}),
        (
            {"MAIL_USE_TLS": "TRUE", "MAIL_TIMEOUT": "2.5"},
            {"MAIL_USE_TLS": True, "MAIL_TIMEOUT": 2.5},
        ),
        ({"MAIL_USE_TLS": "false", "MAIL_USE_SSL": "1"}, {"MAIL_USE_SSL": True}),
        (
            {"MAIL_SERVER": "smtp.example.com", "MAIL_USERNAME": "u", "MAIL_PASSWORD": "p"},
            {"MAIL_SERVER": "smtp.example.com", "MAIL_USERNAME": "u", "MAIL_PASSWORD": "p"},
        ),
        ({}, {"MAIL_DEFAULT_SENDER": "Hoverfeed <no-reply@localhost>", "MAIL_TIMEOUT": 10}),
    ],
)
def test_mail_settings_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, environment: dict, expected: dict
) -> None:
    for name in list(os.environ):
        if name.startswith("MAIL_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    settings = mail_defaults()
    assert {name: settings[name] for name in expected} == expected


@pytest.mark.parametrize(
    "environment",
    [
        {"MAIL_USE_TLS": "maybe"},
        {"MAIL_PORT": "smtp"},
        {"MAIL_TIMEOUT": "0"},
        {"MAIL_USE_TLS": "1", "MAIL_USE_SSL": "1"},
    ],
)
def test_bad_mail_settings_refuse_to_start(
    monkeypatch: pytest.MonkeyPatch, database_url: str, environment: dict
) -> None:
    for name in list(os.environ):
        if name.startswith("MAIL_"):
            monkeypatch.delenv(name)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError):  # before any extension or database is set up
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url})
