"""The application factory, configuration, layout, error pages and entry points."""

from __future__ import annotations

import os
import re
import subprocess
import urllib.request
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

import webapp
from tests.conftest import TEST_SECRET_KEY
from tests.conftest import AuthActions
from tests.conftest import make_app
from tests.servers import BIN
from tests.servers import TEST_PUBLIC_URL
from tests.servers import clean_environment
from tests.servers import free_port
from tests.servers import wait_until_up
from webapp import create_app
from webapp.core.config import ROOT
from webapp.core.config import ConfigError


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str) -> None:
    """The environment of a production start, with no .env file to fall back on."""
    for name in list(os.environ):
        if name.startswith("FLASK_") or name == "SECRET_KEY":
            monkeypatch.delenv(name)
    monkeypatch.setattr(webapp, "ENV_FILE", tmp_path / "no.env")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PUBLIC_URL", "https://feed.example.com")


@pytest.mark.usefixtures("production_env")
@pytest.mark.parametrize("key", [None, "", "short", "change-me", "x" * 31])
def test_production_refuses_a_missing_or_weak_secret_key(
    monkeypatch: pytest.MonkeyPatch, key: str | None
) -> None:
    if key is not None:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(ConfigError) as error:
        create_app()
    assert "secrets.token_hex(32)" in str(error.value)


@pytest.mark.usefixtures("production_env")
def test_production_takes_a_strong_key_and_secures_cookies(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = "k" * 64
    monkeypatch.setenv("SECRET_KEY", key)
    app = create_app()
    assert app.config["SECRET_KEY"] == key
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.usefixtures("production_env")
def test_development_without_a_key_gets_a_random_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASK_DEBUG", "1")
    first, second = create_app(), create_app()
    assert len(first.config["SECRET_KEY"]) >= 32
    assert first.config["SECRET_KEY"] != second.config["SECRET_KEY"]


@pytest.mark.usefixtures("production_env")
def test_settings_come_from_env_file_and_flask_prefix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"SECRET_KEY={'e' * 40}\nFLASK_MAX_CONTENT_LENGTH=12345\n")
    monkeypatch.setattr(webapp, "ENV_FILE", env_file)
    monkeypatch.setenv("FLASK_SESSION_COOKIE_SECURE", "false")
    # load_dotenv writes into os.environ; monkeypatch restores it afterwards.
    monkeypatch.setenv("SECRET_KEY", "")
    monkeypatch.delenv("SECRET_KEY")
    app = create_app()
    assert app.config["SECRET_KEY"] == "e" * 40
    assert app.config["MAX_CONTENT_LENGTH"] == 12345
    assert app.config["SESSION_COOKIE_SECURE"] is False
    monkeypatch.delenv("FLASK_MAX_CONTENT_LENGTH")


def test_real_environment_wins_over_env_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(f"SECRET_KEY={'e' * 40}\n")
    monkeypatch.setattr(webapp, "ENV_FILE", env_file)
    monkeypatch.setenv("SECRET_KEY", "r" * 40)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PUBLIC_URL", "https://feed.example.com")
    assert create_app().config["SECRET_KEY"] == "r" * 40


def test_database_url_defaults_to_sqlite_under_instance(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(webapp, "ENV_FILE", tmp_path / "no.env")
    app = create_app({"TESTING": True, "SECRET_KEY": TEST_SECRET_KEY})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{ROOT / 'instance'}/webapp.sqlite3"


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgresql://u@h:5432/db", "postgresql+psycopg://u@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_uses_psycopg(given: str, used: str) -> None:
    from webapp.core.config import normalise_database_url

    assert normalise_database_url(given) == used


def test_env_example_documents_every_variable() -> None:
    documented = set(
        re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M)
    )
    read = set()
    for source in [*(ROOT / "webapp").rglob("*.py"), ROOT / "alembic" / "env.py"]:
        read |= set(re.findall(r"environ(?:\.get)?[\[(]\"([A-Z0-9_]+)\"", source.read_text()))
    assert read, "the scan found no variables: the pattern is wrong"
    assert read - {"FLASK_SESSION_COOKIE_SECURE"} <= documented
    assert {"SECRET_KEY", "DATABASE_URL", "FLASK_DEBUG"} <= documented


def test_templates_and_static_found_from_any_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, database_url: str
) -> None:
    monkeypatch.chdir(tmp_path)
    client = make_app(database_url).test_client()
    assert client.get("/login").status_code == 200
    with client.get("/static/css/app.css") as response:
        assert response.status_code == 200
        assert b".site-header" in response.data


def test_shell_context_offers_db_user_post(app: Flask) -> None:
    from webapp.accounts.models import User
    from webapp.conversation.models import Post
    from webapp.core.extensions import db

    with app.app_context():
        context = app.make_shell_context()
    assert context["db"] is db and context["User"] is User and context["Post"] is Post


# Layout and error pages --------------------------------------------------------------


def test_anonymous_navbar(client: FlaskClient) -> None:
    html = client.get("/login").get_data(as_text=True)
    assert "Hoverfeed" in html
    assert 'href="/login"' in html and 'href="/register"' in html
    assert "Log out" not in html


def test_logged_in_navbar_and_welcome(client: FlaskClient, auth: AuthActions) -> None:
    auth.register("Dora_B")
    auth.login("dora_b")
    html = client.get("/").get_data(as_text=True)
    assert 'class="nav-user" href="/user/Dora_B">Dora_B</a>' in html
    assert "Log out" in html and 'href="/register"' not in html
    assert "Welcome back, Dora_B!" in html  # flashed by the login
    assert "Hi, Dora_B!" in html
    assert client.get("/index").status_code == 200


def test_custom_404_page(client: FlaskClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    html = response.get_data(as_text=True)
    assert "404 · Not found" in html and "Hoverfeed" in html


def test_404_fragment_for_htmx(client: FlaskClient) -> None:
    response = client.get("/no/such/page", headers={"HX-Request": "true"})
    assert response.status_code == 404
    assert response.get_data(as_text=True).startswith('<p class="error-fragment"')


def test_custom_500_page(database_url: str) -> None:
    app = make_app(database_url, PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom")
    def boom() -> str:
        raise RuntimeError("boom")

    response = app.test_client().get("/boom")
    assert response.status_code == 500
    html = response.get_data(as_text=True)
    assert "500 · Something went wrong" in html
    assert "Traceback" not in html and "RuntimeError" not in html


def test_unmigrated_database_says_what_to_run(empty_app: Flask) -> None:
    client = empty_app.test_client()
    from tests.conftest import csrf_token

    token = csrf_token(client, "/login")
    data = {"csrf_token": token, "username": "alice", "password": "whatever password"}
    response = client.post("/login", data=data)
    assert response.status_code == 503
    html = response.get_data(as_text=True)
    assert "run `alembic upgrade head`" in html
    assert "Traceback" not in html


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok"}


def test_healthz_when_the_database_is_unreachable(tmp_path: Path) -> None:
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=1"
    client = make_app(unreachable).test_client()
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json["database"] == "unreachable"


# Entry points: gunicorn and `flask run`, started for real --------------------------------


@pytest.mark.parametrize("server", ["gunicorn", "flask"])
def test_server_entry_points(server: str, tmp_path: Path) -> None:
    port = free_port()
    bin_dir = BIN
    command = {
        "gunicorn": [
            str(bin_dir / "gunicorn"),
            "--bind",
            f"127.0.0.1:{port}",
            "webapp:create_app()",
        ],
        "flask": [str(bin_dir / "flask"), "--app", "webapp", "run", "--port", str(port)],
    }[server]
    env = clean_environment(
        SECRET_KEY=TEST_SECRET_KEY,
        DATABASE_URL=f"sqlite:///{tmp_path / 'entry.sqlite3'}",
        PUBLIC_URL=TEST_PUBLIC_URL,
    )
    log = tmp_path / "server.log"
    with log.open("w") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=output)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/login", process, log)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/login") as response:
                assert response.status == 200
        finally:
            process.terminate()
            process.wait(timeout=10)
