"""The hover-card comment feed: `create_app()` builds the Flask application."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dotenv import load_dotenv
from flask import Flask

from webapp.core.application import Application
from webapp.core.config import ROOT
from webapp.core.config import load_config

#: Local settings for development; the real environment always wins over it.
ENV_FILE = ROOT / ".env"


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    load_dotenv(ENV_FILE)
    app = Application(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    load_config(app, test_config)
    Path(app.instance_path).mkdir(exist_ok=True)

    from webapp import cli
    from webapp import main
    from webapp.accounts import confirmation
    from webapp.accounts import recovery
    from webapp.accounts import sessions
    from webapp.accounts import settings
    from webapp.accounts import views as accounts_views
    from webapp.accounts.passwords import dummy_hash
    from webapp.conversation import edit_views
    from webapp.conversation import newest
    from webapp.conversation import threads
    from webapp.conversation import views as conversation_views
    from webapp.core import cookie_session
    from webapp.core import database
    from webapp.core import errors
    from webapp.core import proxies
    from webapp.core import redirects
    from webapp.core import referrer
    from webapp.core import security
    from webapp.core import static_files
    from webapp.core import templating
    from webapp.core import throttling
    from webapp.core.extensions import csrf
    from webapp.core.extensions import db
    from webapp.people import activity
    from webapp.people import views as people_views

    cookie_session.init_app(app)
    db.init_app(app)
    database.configure_engine(app)
    referrer.init_app(app)  # before csrf: its hook must run first
    csrf.init_app(app)
    proxies.init_app(app)
    sessions.init_app(app)
    activity.init_app(app)
    security.init_app(app)
    redirects.init_app(app)
    templating.init_app(app)
    newest.init_app(app)
    app.register_blueprint(accounts_views.bp)
    app.register_blueprint(recovery.bp)
    app.register_blueprint(confirmation.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(conversation_views.bp)
    app.register_blueprint(edit_views.bp)
    app.register_blueprint(threads.bp)
    app.register_blueprint(main.bp)
    app.register_blueprint(people_views.bp)
    throttling.init_app(app)  # after the blueprints: it wraps their views
    static_files.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    # Computed now rather than on the first login attempt for an unknown user, so that
    # attempt costs what any other does.
    dummy_hash()
    return app
