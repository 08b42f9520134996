"""Real server processes for tests: gunicorn (or flask run) on free localhost ports, and a
small cookie-keeping HTTP client that speaks to them like a browser form would."""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from webapp.core.config import ROOT

BIN = Path(sys.executable).parent
#: Links in mail from servers under test (the port is chosen later, so none is real).
TEST_PUBLIC_URL = "http://127.0.0.1:5000"
CSRF = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'type="hidden" name="csrf_token" value="([^"]+)"'
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_environment(**settings: str) -> dict[str, str]:
    """This process's environment without app settings, plus `settings`."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("FLASK_", "RATELIMIT_", "TRUSTED_", "MAIL_"))
        and key not in {"SECRET_KEY", "DATABASE_URL", "PUBLIC_URL"}
    }
    env.update(settings)
    return env


def site_environment(database_url: str, **settings: str) -> dict[str, str]:
    """The environment of an app server under test: the test key, the test database, plain
    HTTP cookies (no TLS on localhost), the PUBLIC_URL production requires, plus `settings`."""
    from tests.conftest import TEST_SECRET_KEY

    # Mail the test does not catch goes to a folder of its own, never the repository's
    # instance/mail.
    outbox = tempfile.mkdtemp(prefix="hoverfeed-test-mail-")
    return clean_environment(
        SECRET_KEY=TEST_SECRET_KEY,
        DATABASE_URL=database_url,
        FLASK_SESSION_COOKIE_SECURE="false",
        **{"PUBLIC_URL": TEST_PUBLIC_URL, "FLASK_MAIL_OUTBOX": outbox, **settings},
    )


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def pids_of_workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


def wait_until_up(url: str, process: subprocess.Popen, log: Path, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer in {seconds} s:\n{log.read_text()}")


@contextmanager
def gunicorn(
    tmp_path: Path,
    env: dict[str, str],
    workers: int = 1,
    extra: tuple[str, ...] = (),
    app: str = "webapp:create_app()",
    health_path: str = "/healthz",
) -> Iterator[Server]:
    """`gunicorn "webapp:create_app()"` from the repository root, as in production (so
    with gunicorn.conf.py), on a free port."""
    port = free_port()
    log = tmp_path / f"gunicorn-{port}.log"
    command = [
        str(BIN / "gunicorn"),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        *extra,
        app,
    ]
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(f"{url}{health_path}", process, log)
            yield Server(url, process, log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Browserless:
    """An HTTP client with its own cookies that fills in CSRF tokens, like a form would."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect()
        )
        self.token = ""

    def request(
        self, method: str, path: str, data: dict | None = None, headers: dict | None = None
    ) -> tuple[int, str, dict[str, str]]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(
            self.base_url + path, data=body, method=method, headers=headers or {}
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                text = response.read().decode()
                status, response_headers = response.status, dict(response.headers)
        except urllib.error.HTTPError as error:
            text = error.read().decode()
            status, response_headers = error.code, dict(error.headers)
            error.close()
        match = CSRF.search(text)
        if match:
            self.token = match.group(1) or match.group(2)
        return status, text, response_headers

    def get(self, path: str, headers: dict | None = None) -> tuple[int, str, dict[str, str]]:
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, data: dict, page: str | None = None):
        """POST as the form on `page` (default: `path`) would, with its CSRF token."""
        if not self.token:
            self.get(page or path)
        return self.request("POST", path, {**data, "csrf_token": self.token})

    def post_htmx(self, path: str, data: dict | None = None):
        if not self.token:
            self.get("/")
        headers = {"HX-Request": "true", "X-CSRFToken": self.token}
        return self.request("POST", path, data or {}, headers)

    def login(self, username: str, password: str) -> int:
        self.get("/login")
        status, _, _ = self.post_form("/login", {"username": username, "password": password})
        self.token = ""
        return status


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # noqa: ANN002, ANN003
        return None
