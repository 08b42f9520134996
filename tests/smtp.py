"""A real SMTP server for tests: aiosmtpd on a free 127.0.0.1 port, keeping what it receives.

    def test_something(smtp_server):
        app = make_app(database_url, **smtp_server.config())
        ...  # something that sends mail
        [message] = smtp_server.wait_for(1)
        url = link_in(message, "/reset/")

`send` is never mocked: the app talks SMTP to this server exactly as it would to a real one.
The server can also refuse (`refuse`: 550 to RCPT TO; `refuse_data`: 554 after DATA), be
slow (`delay`: seconds it waits before answering the message's DATA) and check a login
(`credentials`; `logins` records every AUTH attempt). AUTH is offered without TLS: this is a
loopback test server with no certificate.
"""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from aiosmtpd.smtp import AuthResult
from aiosmtpd.smtp import Envelope
from aiosmtpd.smtp import LoginPassword
from aiosmtpd.smtp import Session

from tests.servers import free_port
from webapp.core.config import DEVELOPMENT_PUBLIC_URL

URL = re.compile(r"https?://[^\s<>\"']+")


class SMTPServer:
    """What the fixture yields: the server's port, the messages it accepted, and switches that
    make it misbehave (set them before the app sends)."""

    def __init__(self, port: int) -> None:
        self.port = port
        #: Accepted messages, parsed (email.policy.default), in the order they arrived.
        self.messages: list[EmailMessage] = []
        #: (MAIL FROM, [RCPT TO, ...]) of each accepted message: the envelope, not headers.
        self.envelopes: list[tuple[str, list[str]]] = []
        self.refuse = False
        self.refuse_data = False
        self.delay = 0.0
        #: (username, password) the server accepts; None accepts any login.
        self.credentials: tuple[str, str] | None = None
        #: Every AUTH attempt, as (username, password).
        self.logins: list[tuple[str, str]] = []
        self._arrived = threading.Condition()

    def config(self) -> dict[str, Any]:
        """MAIL_* settings for make_app/create_app that point the app at this server."""
        return {
            "MAIL_SERVER": "127.0.0.1",
            "MAIL_PORT": self.port,
            "MAIL_USE_TLS": False,
            "MAIL_USE_SSL": False,
            "MAIL_USERNAME": "",
            "MAIL_PASSWORD": "",
            # A test that hangs on mail should fail in seconds, not wait the default 10.
            "MAIL_TIMEOUT": 5.0,
        }

    def wait_for(self, count: int = 1, timeout: float = 10) -> list[EmailMessage]:
        """The messages, once at least `count` have arrived (background sends take a moment)."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"expected {count} message(s) within {timeout} s, got "
                        f"{len(self.messages)}: {[str(m['Subject']) for m in self.messages]}"
                    )
                self._arrived.wait(left)
            return list(self.messages)

    def clear(self) -> None:
        with self._arrived:
            self.messages.clear()
            self.envelopes.clear()

    def _accept(self, envelope: Envelope) -> None:
        message = message_from_bytes(envelope.content, policy=default_policy)
        with self._arrived:
            self.messages.append(message)  # type: ignore[arg-type]
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self._arrived.notify_all()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        login = (data.login.decode(), data.password.decode())
        self.logins.append(login)
        # handled=False: aiosmtpd answers a failure with 535, as real servers do.
        return AuthResult(success=self.credentials in (None, login), handled=False)


class Handler:
    """aiosmtpd's hooks, answering as the SMTPServer's switches say."""

    def __init__(self, box: SMTPServer) -> None:
        self.box = box

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list
    ) -> str:
        if self.box.refuse:
            return "550 5.1.1 Mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.box.delay:
            await asyncio.sleep(self.box.delay)
        if self.box.refuse_data:
            return "554 5.6.0 Message refused"
        self.box._accept(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A real SMTP server on 127.0.0.1 for one test; see the module's docstring."""
    box = SMTPServer(free_port())
    # hostname: bind IPv4 loopback (the default may pick ::1); server_hostname: the name in
    # its greeting, which otherwise comes from socket.getfqdn(), a DNS lookup.
    controller = Controller(
        Handler(box),
        hostname="127.0.0.1",
        port=box.port,
        server_hostname="localhost",
        auth_require_tls=False,
        authenticator=box._authenticate,
    )
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


#: The ways a mail server lets the app down, for @pytest.mark.parametrize("failure", ...).
MAIL_FAILURES = ["closed port", "slow", "refusing"]


def failing_mail(smtp_server: SMTPServer, failure: str) -> dict[str, Any]:
    """App settings (and server switches) for a mail server that fails in this way."""
    from tests.servers import free_port

    settings: dict[str, Any] = {**smtp_server.config(), "MAIL_TIMEOUT": 1.0}
    if failure == "closed port":
        settings["MAIL_PORT"] = free_port()  # nothing listens there
    elif failure == "slow":
        smtp_server.delay = 1.5
    else:
        smtp_server.refuse = True
    return settings


def link_in(
    message: EmailMessage, path_prefix: str, public_url: str = DEVELOPMENT_PUBLIC_URL
) -> str:
    """The first URL in the message's text part that starts with `public_url + path_prefix`
    (apps made by the tests have the development PUBLIC_URL unless told otherwise)."""
    text = message.get_body(("plain",)).get_content()
    start = public_url.rstrip("/") + path_prefix
    for url in URL.findall(text):
        if url.startswith(start):
            return url
    raise AssertionError(f"no link starting with {start} in:\n{text}")
