"""The floors the app is measured against, served by gunicorn like the app itself.

- `bare_app()`: Flask returning a constant string: what a request costs in this stack.
- `authenticated_floor()`: this project's app with one extra login-required route that
  returns a constant string: the cheapest possible authenticated request (session cookie,
  user loaded, security headers), everything a card needs before its own work.
"""

from __future__ import annotations

from flask import Flask
from flask_login import login_required

from webapp import create_app


def bare_app() -> Flask:
    app = Flask(__name__)

    @app.route("/")
    def constant() -> str:
        return "ok"

    return app


def authenticated_floor() -> Flask:
    app = create_app()

    @app.route("/floor")
    @login_required
    def floor() -> str:
        return "ok"

    return app
