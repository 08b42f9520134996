"""Blueprint: register, log in, log out."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import flash
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from webapp.accounts.credentials import AccountTaken
from webapp.accounts.credentials import authenticate
from webapp.accounts.credentials import register_user
from webapp.accounts.device_cookies import remember_device
from webapp.accounts.emails import send_confirmation
from webapp.accounts.forms import LoginForm
from webapp.accounts.forms import RegistrationForm
from webapp.accounts.login_throttle import start_attempt
from webapp.accounts.sessions import end_current_session
from webapp.accounts.sessions import start_session
from webapp.core.extensions import db
from webapp.core.mail import MailNotSent
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
            user = register_user(form.username.data, form.email.data, form.password.data)
        except AccountTaken as taken:
            for field_name, message in taken.errors.items():
                form[field_name].errors.append(message)
        else:
            # A new user expects to be in, not to type the password again.
            start_session(user, remembered=False)
            db.session.commit()
            flash(f"Welcome, {user.username}! Your account is ready.", "success")
            try:
                send_confirmation(user)
            except MailNotSent as error:
                flash(f"{error} (the confirmation link, from Settings)", "error")
            response = redirect(url_for("feed.index"), 303)
            # The browser that made the account is the owner's: it logs in past a lockout.
            remember_device(response, user.username_canon)
            return response
    return render_template("accounts/register.html", form=form), 200 if not form.errors else 422


@bp.route("/login", methods=["GET", "POST"])
def login() -> str | Response:
    next_page = request.args.get("next")
    if current_user.is_authenticated:
        return redirect(url_for("feed.index"))
    form = LoginForm()
    if form.validate_on_submit():
        # Counted before the password is checked; over a limit, a 429 and no check at all.
        attempt = start_attempt(form.username.data)
        user = authenticate(form.username.data, form.password.data)
        if user is None:
            attempt.failed()
            form.form_errors.append(BAD_CREDENTIALS)
        else:
            attempt.succeeded()
            # A fresh session: nothing an attacker planted before login survives it.
            start_session(user, remembered=form.remember_me.data)
            db.session.commit()
            flash(f"Welcome back, {user.username}!", "success")
            target = next_page if is_safe_local_path(next_page) else url_for("feed.index")
            response = redirect(target, 303)
            remember_device(response, user.username_canon)
            return response
    status = 200 if not (form.errors or form.form_errors) else 422
    return render_template("accounts/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@login_required
def logout() -> Response:
    # CSRFProtect has checked the token already: a cross-site form cannot log anyone out.
    # Only this browser's session ends (Settings > Sessions ends the others); its row is
    # deleted, so a copy of the cookie authenticates nobody.
    end_current_session()
    db.session.commit()
    flash("You have been logged out.", "info")
    return redirect(url_for("auth.login"), 303)
