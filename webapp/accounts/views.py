"""Blueprint: register, log in, log out."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from flask_login import login_user
from flask_login import logout_user

from webapp.accounts.credentials import AccountTaken
from webapp.accounts.credentials import authenticate
from webapp.accounts.credentials import register_user
from webapp.accounts.forms import LoginForm
from webapp.accounts.forms import RegistrationForm
from webapp.accounts.sessions import revoke_sessions
from webapp.core.extensions import db
from webapp.core.redirects import is_safe_local_path

bp = Blueprint("auth", __name__)

BAD_CREDENTIALS = "Invalid username or password."


@bp.route("/register", methods=["GET", "POST"])
def register() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("feed.index"))
    form = RegistrationForm()
    if form.validate_on_submit():
        try:
            register_user(form.username.data, form.email.data, form.password.data)
        except AccountTaken as taken:
            for field_name, message in taken.errors.items():
                form[field_name].errors.append(message)
        else:
            flash("Congratulations, you are now registered. Please log in.", "success")
            return redirect(url_for("auth.login"), 303)
    return render_template("accounts/register.html", form=form), 200 if not form.errors else 422


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    next_page = request.args.get("next")
    if current_user.is_authenticated:
        return redirect(url_for("feed.index"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.username.data, form.password.data)
        if user is None:
            form.form_errors.append(BAD_CREDENTIALS)
        else:
            # A fresh session: nothing an attacker planted before login survives it.
            session.clear()
            login_user(user, remember=form.remember_me.data)
            flash(f"Welcome back, {user.username}!", "success")
            target = next_page if is_safe_local_path(next_page) else url_for("feed.index")
            return redirect(target, 303)
    status = 200 if not (form.errors or form.form_errors) else 422
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    # CSRFProtect has checked the token already: a cross-site form cannot log anyone out.
    # Bumping the session version kills every copy of this user's cookies, not only the one
    # the browser is about to forget.
    revoke_sessions(current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"), 303)
