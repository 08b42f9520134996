"""Outgoing e-mail: a text and an HTML part rendered from templates/mail/, sent over SMTP, or
written to instance/mail/ (MAIL_OUTBOX) when no MAIL_SERVER is configured, so development
needs no mail server.

Callers send **after** the database commit, never inside the transaction: a mail cannot be
taken back, so it must not announce a change that a rollback then undoes, and a slow mail
server must not hold row locks. Links in messages come from `external_url`, which takes the
host from PUBLIC_URL and never from the request (a forged Host header would otherwise send
a reset token to the forger's site).
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
import tempfile
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait
from datetime import UTC
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from email.utils import make_msgid
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import quote
from urllib.parse import urlsplit

from flask import Flask
from flask import current_app
from flask import render_template

from webapp.core.config import is_production
from webapp.core.config import mail_outbox

#: Background sends per app at once: mail is rare, and a slow server must not eat threads.
BACKGROUND_WORKERS = 2
_executor_lock = threading.Lock()


class MailNotSent(Exception):
    """The message could not be handed to the mail server. Its text is fit to show users;
    the cause (chained) and the log say what went wrong."""

    USER_MESSAGE = "We could not send the e-mail; please try again later."

    def __init__(self) -> None:
        super().__init__(self.USER_MESSAGE)


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute URL for a link in an e-mail: PUBLIC_URL followed by the endpoint's path.

    Built on PUBLIC_URL alone rather than `PUBLIC_URL + url_for(...)`: url_for needs a request
    (or SERVER_NAME) and prefixes the request's script root, and mail is also sent from
    background threads and commands. `_anchor` is honoured like in url_for.
    """
    app = current_app._get_current_object()
    base = urlsplit(app.config["PUBLIC_URL"])
    adapter = app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    anchor = values.pop("_anchor", None)
    app.inject_url_defaults(endpoint, values)
    url = adapter.build(endpoint, values, force_external=True)
    if anchor is not None:
        url += "#" + quote(anchor, safe="%!#$&'()*+,/:;=?@")
    return url


def render(template: str, **context: Any) -> tuple[str, str]:
    """The body (`mail/<template>.txt`) and its HTML alternative (`mail/<template>.html`,
    autoescaped; the .txt is not, as Flask escapes only HTML and XML templates)."""
    return (
        render_template(f"mail/{template}.txt", **context),
        render_template(f"mail/{template}.html", **context),
    )


def compose(to: str, subject: str, text: str, html: str) -> EmailMessage:
    """The message with its headers. Costs milliseconds (the email package parses every
    header it is given), which is why background sends do it off the request."""
    config = current_app.config
    sender = config["MAIL_DEFAULT_SENDER"]
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to  # the policy refuses CR/LF, so no header can be injected here
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    # make_msgid's default domain is socket.getfqdn(), a DNS lookup that can hang: use ours.
    domain = parseaddr(sender)[1].rpartition("@")[2] or urlsplit(config["PUBLIC_URL"]).hostname
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def build_message(to: str, subject: str, template: str, **context: Any) -> EmailMessage:
    """The whole message, ready for `deliver` or `deliver_in_background`."""
    return compose(to, subject, *render(template, **context))


def send_mail(to: str, subject: str, template: str, **context: Any) -> None:
    """Render and send a message now; raise MailNotSent if the mail server does not take it.

    Call after the database commit (see the module's docstring). Needs an app context.
    """
    deliver(build_message(to, subject, template, **context))


def deliver(message: EmailMessage) -> None:
    app = current_app._get_current_object()
    if not app.config["MAIL_SERVER"]:
        write_to_outbox(app, message)
        return
    try:
        send_over_smtp(app, message)
    except (smtplib.SMTPException, OSError) as error:  # timeouts and TLS errors are OSErrors
        app.logger.error(
            "Mail to %s not sent through %s:%s: %s",
            recipient_domain(message),
            app.config["MAIL_SERVER"],
            app.config["MAIL_PORT"],
            describe(error, message),
        )
        raise MailNotSent from error


def send_over_smtp(app: Flask, message: EmailMessage) -> None:
    config = app.config
    # MAIL_TIMEOUT bounds each network step (connect, each command), not the whole exchange.
    timeout = config["MAIL_TIMEOUT"]
    host, port = config["MAIL_SERVER"], config["MAIL_PORT"]
    if config["MAIL_USE_SSL"]:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(
            host, port, timeout=timeout, context=ssl.create_default_context()
        )
    else:
        smtp = smtplib.SMTP(host, port, timeout=timeout)
    try:
        if config["MAIL_USE_TLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["MAIL_USERNAME"]:
            smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
        smtp.send_message(message)
    except BaseException:
        # No QUIT on a connection that just failed: after a timeout it would wait once more.
        smtp.close()
        raise
    quit_quietly(smtp)


def quit_quietly(smtp: smtplib.SMTP) -> None:
    """QUIT, ignoring errors: once the server has taken the message, a failed goodbye must not
    turn into "not sent" (and a retry that sends it twice)."""
    try:
        smtp.quit()
    except (smtplib.SMTPException, OSError):
        pass
    finally:
        smtp.close()


def recipient_domain(message: EmailMessage) -> str:
    """Who a failed message was for, as much as a log needs: the domain, not the person."""
    return "@" + parseaddr(str(message["To"]))[1].rpartition("@")[2]


def describe(error: BaseException, message: EmailMessage) -> str:
    """The error for the log, with the recipient's address reduced to its domain (smtplib
    puts it in SMTPRecipientsRefused, and servers often repeat it in their answers)."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        answers = error.recipients.values()
        text = "recipient refused: " + "; ".join(f"{code} {reply!r}" for code, reply in answers)
    elif isinstance(error, smtplib.SMTPResponseException):
        text = f"{type(error).__name__}: {error.smtp_code} {error.smtp_error!r}"
    else:
        text = f"{type(error).__name__}: {error}"
    address = parseaddr(str(message["To"]))[1]
    if address:
        text = text.replace(address, "…" + recipient_domain(message))
    return text


def write_to_outbox(app: Flask, message: EmailMessage) -> Path:
    """Development without a mail server: the message as an .eml file in instance/mail/, which
    any mail program opens. Written under a temporary name and renamed, so a reader never sees
    half a message; readable by its owner only, as messages carry reset tokens."""
    outbox = mail_outbox(app)
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    path = outbox / f"{stamp}-{secrets.token_hex(4)}.eml"
    with tempfile.NamedTemporaryFile(dir=outbox, prefix=".", suffix=".tmp", delete=False) as file:
        try:
            file.write(message.as_bytes())
            file.flush()
            os.fsync(file.fileno())
        except BaseException:
            os.unlink(file.name)
            raise
    os.replace(file.name, path)
    # Production without MAIL_SERVER is a mistake (warned about at start): say so every time.
    level = logging.WARNING if is_production(app) else logging.INFO
    app.logger.log(
        level, "MAIL_SERVER is not set: mail %r written to %s", str(message["Subject"]), path
    )
    return path


# Background sending -----------------------------------------------------------------------


def send_mail_in_background(to: str, subject: str, template: str, **context: Any) -> Future:
    """`send_mail`, but composing and sending run on one of the app's mail threads; failures
    are logged, never raised. Call after the database commit.

    For responses that must not depend on the mail: a password-reset request answers in the
    same time whether or not the address has an account, so the caller must not wait for the
    mail server (milliseconds to MAIL_TIMEOUT) nor for the email package. Only the templates
    are rendered here, in the caller's thread (a fraction of a millisecond): the context may
    hold ORM objects of the request's session, which another thread must not touch, and a
    template error shows up where it was made.
    """
    text, html = render(template, **context)
    app = current_app._get_current_object()
    return submit(app, lambda: compose(to, subject, text, html))


def deliver_in_background(app: Flask, message: EmailMessage) -> Future:
    """Send a message made with `build_message` on one of `app`'s mail threads; failures are
    logged, never raised. Needs no app context, so it can run from `call_on_close`."""
    return submit(app, lambda: message)


def submit(app: Flask, make_message: Callable[[], EmailMessage]) -> Future:
    state = background_state(app)
    future = state["executor"].submit(deliver_in_app_context, app, make_message)
    with state["lock"]:
        state["pending"].add(future)
    future.add_done_callback(lambda done: forget(state, done))
    return future


def deliver_in_app_context(app: Flask, make_message: Callable[[], EmailMessage]) -> None:
    with app.app_context():
        try:
            deliver(make_message())
        except MailNotSent:
            pass  # logged by deliver, with its cause
        except Exception:
            app.logger.exception("Mail not sent")


def background_state(app: Flask) -> dict[str, Any]:
    """The app's mail threads, made on first use (most processes never send mail)."""
    with _executor_lock:
        state = app.extensions.get("webapp.mail")
        if state is None:
            state = app.extensions["webapp.mail"] = {
                "executor": ThreadPoolExecutor(BACKGROUND_WORKERS, thread_name_prefix="mail"),
                "pending": set(),
                "lock": threading.Lock(),
            }
        return state


def forget(state: dict[str, Any], future: Future) -> None:
    with state["lock"]:
        state["pending"].discard(future)


def wait_for_background_mail(app: Flask, timeout: float = 10) -> bool:
    """Wait until the app's background sends are done; False if some still run after
    `timeout` seconds. For tests and for shutting down cleanly."""
    state = app.extensions.get("webapp.mail")
    if state is None:
        return True
    with state["lock"]:
        pending = set(state["pending"])
    return not wait(pending, timeout=timeout).not_done
