"""Settings read from the environment (and a local `.env` file, through python-dotenv)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

#: Project root: templates, static files and `instance/` are found from here, whatever the
#: current directory is.
ROOT = Path(__file__).resolve().parent.parent.parent

MIN_SECRET_KEY_LENGTH = 32
#: Values people paste from tutorials; a key equal to one of these is as good as none.
PLACEHOLDER_SECRET_KEYS = frozenset(
    {"change-me", "changeme", "secret", "dev", "development", "you-will-never-guess"}
)

SECRET_KEY_HELP = (
    "SECRET_KEY is missing or too weak (it needs at least {n} characters). Generate one with\n"
    "    python3 -c 'import secrets; print(secrets.token_hex(32))'\n"
    "and set it in the environment or in .env (see .env.example)."
)


class ConfigError(RuntimeError):
    """The configuration cannot be used to run the app; the message says how to fix it."""


def normalise_database_url(url: str) -> str:
    """Make `postgres://` and `postgresql://` URLs use psycopg 3, the driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def split_list(value: str | None) -> list[str] | None:
    items = [item.strip() for item in (value or "").split(",") if item.strip()]
    return items or None


def rate_limit_defaults() -> dict:
    """Flask-Limiter settings. Counters live in this process unless RATELIMIT_STORAGE_URI
    names a shared store (redis://...), which every process and machine then shares."""
    storage_uri = os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
    settings = {
        "RATELIMIT_STORAGE_URI": storage_uri,
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX") or "hoverfeed",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down: each process keeps counting in memory (limits stay, per process) and
        # goes back to Redis when it answers again; requests are never refused for it.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # The limits themselves; each can be changed with FLASK_<NAME>.
        "RATELIMIT_LOGIN_PER_ADDRESS": "30 per 15 minutes",
        "RATELIMIT_LOGIN_PER_ACCOUNT": "10 per 15 minutes",
        "RATELIMIT_REGISTER_PER_ADDRESS": "20 per hour",
        "RATELIMIT_POSTS_PER_USER": "20 per minute; 500 per day",
        "RATELIMIT_CARDS_PER_USER": "300 per minute",
    }
    if storage_uri.startswith(("redis://", "rediss://")):
        # A Redis that does not answer must cost a request half a second, not a minute.
        settings["RATELIMIT_STORAGE_OPTIONS"] = {
            "socket_connect_timeout": 0.5,
            "socket_timeout": 0.5,
        }
    return settings


def default_database_url() -> str:
    instance = ROOT / "instance"
    return f"sqlite:///{instance / 'webapp.sqlite3'}"


def load_config(app: Flask, test_config: dict | None) -> None:
    """Fill `app.config`: defaults, then the environment, then the tests' overrides."""
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY", ""),
        SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL") or default_database_url(),
        # Sessions and remember-me cookies: never readable by scripts, not sent on
        # cross-site subrequests. SESSION_COOKIE_SECURE is turned on in production below.
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_DURATION=14 * 24 * 3600,
        # A comment is 280 characters; no form here needs more than a few kilobytes.
        MAX_CONTENT_LENGTH=64 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        # htmx sends the CSRF token in this header (set once on <body>).
        WTF_CSRF_HEADERS=["X-CSRFToken"],
        # Reverse proxies in front of the app (each adds one X-Forwarded-For hop), and the
        # host names it answers to (others get 400). See README, "Deploying".
        TRUSTED_PROXIES=int(os.environ.get("TRUSTED_PROXIES") or 0),
        TRUSTED_HOSTS=split_list(os.environ.get("TRUSTED_HOSTS")),
        **rate_limit_defaults(),
    )
    # Any Flask or extension setting as FLASK_<NAME>, e.g. FLASK_SESSION_COOKIE_SECURE=true.
    app.config.from_prefixed_env()
    if test_config:
        app.config.update(test_config)

    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )
    # Production is served over HTTPS (a proxy terminates TLS), so cookies are Secure there
    # unless FLASK_SESSION_COOKIE_SECURE says otherwise explicitly.
    if is_production(app) and "FLASK_SESSION_COOKIE_SECURE" not in os.environ:
        app.config["SESSION_COOKIE_SECURE"] = True
    app.config["REMEMBER_COOKIE_SECURE"] = app.config["SESSION_COOKIE_SECURE"]
    check_secret_key(app)


def is_production(app: Flask) -> bool:
    return not (app.debug or app.testing)


def check_secret_key(app: Flask) -> None:
    """Refuse a missing or weak key outside development and tests; never fall back silently."""
    key = app.config.get("SECRET_KEY") or ""
    weak = len(key) < MIN_SECRET_KEY_LENGTH or key.lower() in PLACEHOLDER_SECRET_KEYS
    if not weak:
        return
    if is_production(app):
        raise ConfigError(SECRET_KEY_HELP.format(n=MIN_SECRET_KEY_LENGTH))
    # Development and tests: a random key per process. Sessions end when the process does,
    # which is the honest consequence of not configuring one.
    app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.logger.warning("SECRET_KEY not set: using a random key for this process only.")
