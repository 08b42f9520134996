"""Settings read from the environment (and a local `.env` file, through python-dotenv)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

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


#: Where links in e-mails point when PUBLIC_URL is unset: the development server.
DEVELOPMENT_PUBLIC_URL = "http://127.0.0.1:5000"

PUBLIC_URL_HELP = (
    "PUBLIC_URL is not set. Links in e-mails (password reset, address confirmation) are built\n"
    "from it, never from the Host of the request that asked for them, which anyone can forge.\n"
    "Set it to the address people use to reach the site, e.g.\n"
    "    PUBLIC_URL=https://feed.example.com\n"
    "in the environment or in .env (see .env.example)."
)

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off"})


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
    # process-memory:// is webapp/core/process_counters.py: limits' memory:// without its
    # thread per hit.
    storage_uri = os.environ.get("RATELIMIT_STORAGE_URI") or "process-memory://"
    settings = {
        "RATELIMIT_STORAGE_URI": storage_uri,
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX") or "hoverfeed",
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis down: each process keeps counting in memory (limits stay, per process) and
        # goes back to Redis when it answers again; requests are never refused for it.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # The limits themselves; each can be changed with FLASK_<NAME>.
        # Logins (webapp/accounts/login_throttle.py): failures per client address; per
        # account from browsers that never logged into it, per device from those that did
        # (so strangers cannot lock the owner out); successes per account, tested before the
        # password is hashed.
        "RATELIMIT_LOGIN_PER_ADDRESS": "30 per 15 minutes",
        "RATELIMIT_LOGIN_PER_ACCOUNT": "10 per 15 minutes",
        "RATELIMIT_LOGIN_PER_DEVICE": "10 per 15 minutes",
        "RATELIMIT_LOGIN_SUCCESS_PER_ACCOUNT": "30 per hour",
        "RATELIMIT_REGISTER_PER_ADDRESS": "20 per hour",
        "RATELIMIT_POSTS_PER_USER": "20 per minute; 500 per day",
        "RATELIMIT_CARDS_PER_USER": "300 per minute",
        # Requests that send e-mail: enough for a typo or a slow inbox, too few to flood one.
        "RATELIMIT_RESET_PER_ADDRESS": "10 per hour",
        "RATELIMIT_RESET_PER_EMAIL": "3 per hour",
        "RATELIMIT_CONFIRMATION_PER_USER": "3 per hour",
        "RATELIMIT_EMAIL_CHANGE_PER_USER": "5 per hour",
        "RATELIMIT_PASSWORD_CHECKS_PER_USER": "10 per 15 minutes",
    }
    if storage_uri.startswith(("redis://", "rediss://")):
        # A Redis that does not answer must cost a request half a second, not a minute.
        settings["RATELIMIT_STORAGE_OPTIONS"] = {
            "socket_connect_timeout": 0.5,
            "socket_timeout": 0.5,
        }
    return settings


def parse_bool(name: str, value: str | None, default: bool) -> bool:
    """An environment flag: 1/true/yes/on or 0/false/no/off (any case); unset or empty means
    `default`. Anything else is refused: a typo must not silently turn TLS off."""
    if value is None or not value.strip():
        return default
    word = value.strip().lower()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    raise ConfigError(f"{name}={value!r} is not a yes/no value: use 1/true/yes or 0/false/no.")


def parse_number(name: str, value: str | None, default: float, kind: type = int) -> float:
    if value is None or not value.strip():
        return default
    try:
        number = kind(value.strip())
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a number.") from None
    if number <= 0:
        raise ConfigError(f"{name}={value!r} must be greater than 0.")
    return number


def mail_defaults() -> dict:
    """Outgoing mail (webapp/core/mail.py). With no MAIL_SERVER, messages are written to
    instance/mail/ instead of being sent, so development needs no mail server."""
    use_ssl = parse_bool("MAIL_USE_SSL", os.environ.get("MAIL_USE_SSL"), default=False)
    # 587 with STARTTLS is mail submission as every provider offers it (RFC 8314); 465 is
    # implicit TLS. A local relay on port 25 without TLS needs MAIL_PORT=25 MAIL_USE_TLS=0.
    use_tls = parse_bool("MAIL_USE_TLS", os.environ.get("MAIL_USE_TLS"), default=not use_ssl)
    return {
        "MAIL_SERVER": os.environ.get("MAIL_SERVER") or "",
        "MAIL_PORT": parse_number(
            "MAIL_PORT", os.environ.get("MAIL_PORT"), default=465 if use_ssl else 587
        ),
        "MAIL_USE_TLS": use_tls,
        "MAIL_USE_SSL": use_ssl,
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME") or "",
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD") or "",
        "MAIL_DEFAULT_SENDER": os.environ.get("MAIL_DEFAULT_SENDER")
        or "Hoverfeed <no-reply@localhost>",
        "MAIL_TIMEOUT": parse_number(
            "MAIL_TIMEOUT", os.environ.get("MAIL_TIMEOUT"), default=10.0, kind=float
        ),
        # The folder for unsent mail; None is instance/mail. Tests give each test its own.
        "MAIL_OUTBOX": None,
    }


def default_database_url() -> str:
    instance = ROOT / "instance"
    return f"sqlite:///{instance / 'webapp.sqlite3'}"


def load_config(app: Flask, test_config: dict | None) -> None:
    """Fill `app.config`: defaults, then the environment, then the tests' overrides."""
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY", ""),
        SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL") or default_database_url(),
        # Cookies (Flask's session, and the login and device cookies, which take these
        # settings too): never readable by scripts, not sent on cross-site subrequests.
        # SESSION_COOKIE_SECURE is turned on in production below.
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        # A comment is 280 characters; no form here needs more than a few kilobytes.
        MAX_CONTENT_LENGTH=64 * 1024,
        WTF_CSRF_TIME_LIMIT=None,
        # htmx sends the CSRF token in this header (set once on <body>).
        WTF_CSRF_HEADERS=["X-CSRFToken"],
        # Reverse proxies in front of the app (each adds one X-Forwarded-For hop), and the
        # host names it answers to (others get 400). See README, "Deploying".
        TRUSTED_PROXIES=int(os.environ.get("TRUSTED_PROXIES") or 0),
        TRUSTED_HOSTS=split_list(os.environ.get("TRUSTED_HOSTS")),
        # The site's address as its users know it: every link in an e-mail starts with it.
        PUBLIC_URL=os.environ.get("PUBLIC_URL") or "",
        **rate_limit_defaults(),
        **mail_defaults(),
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
    check_secret_key(app)
    check_public_url(app)
    check_mail(app)


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


def check_public_url(app: Flask) -> None:
    """Production needs PUBLIC_URL (a reset link made from a forged Host header would hand the
    token to whoever forged it); development and tests point links at the dev server."""
    url = (app.config.get("PUBLIC_URL") or "").strip().rstrip("/")
    if not url:
        if is_production(app):
            raise ConfigError(PUBLIC_URL_HELP)
        url = DEVELOPMENT_PUBLIC_URL
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            f"PUBLIC_URL={url!r} is not a site address: use the form https://feed.example.com "
            "(a path is allowed, a query or fragment is not)."
        )
    app.config["PUBLIC_URL"] = url


def check_mail(app: Flask) -> None:
    if app.config["MAIL_USE_TLS"] and app.config["MAIL_USE_SSL"]:
        raise ConfigError(
            "MAIL_USE_TLS (STARTTLS, usually port 587) and MAIL_USE_SSL (implicit TLS, usually "
            "port 465) exclude each other: set one of them."
        )
    if app.config["MAIL_USERNAME"] and not (
        app.config["MAIL_USE_TLS"] or app.config["MAIL_USE_SSL"]
    ):
        app.logger.warning(
            "MAIL_USERNAME is set without MAIL_USE_TLS or MAIL_USE_SSL: the mail password "
            "crosses the network unencrypted."
        )
    if not app.config["MAIL_SERVER"] and is_production(app):
        app.logger.warning(
            "MAIL_SERVER is not set: e-mails are not sent but written to %s.", mail_outbox(app)
        )


def mail_outbox(app: Flask) -> Path:
    """Where mail goes when no MAIL_SERVER is configured."""
    return Path(app.config.get("MAIL_OUTBOX") or Path(app.instance_path) / "mail")
