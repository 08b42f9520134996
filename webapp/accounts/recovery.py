"""Blueprint: "Forgot your password?": ask for a link by e-mail, then set a new password.

The request page answers the same, in the same time, whether or not an account has the
address (the same message is made either way, and mailed only after the response), so it
tells nobody which addresses have accounts; its throttling counts both alike. A link works
once, for 30 minutes (see tokens.py); using it ends every session of the account and logs
this browser in.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import url_for

from webapp.accounts import tokens
from webapp.accounts.credentials import find_by_email
from webapp.accounts.credentials import replace_password
from webapp.accounts.emails import send_notice
from webapp.accounts.emails import send_reset_link_in_background
from webapp.accounts.forms import NewPasswordForm
from webapp.accounts.forms import ResetRequestForm
from webapp.accounts.models import User
from webapp.accounts.sessions import end_sessions
from webapp.accounts.sessions import start_session
from webapp.core.extensions import db
from webapp.core.mail import MailNotSent

bp = Blueprint("recovery", __name__)

SENT = "If an account uses that address, we have sent it a link to reset the password."


@bp.route("/reset_password", methods=["GET", "POST"])
def request_reset() -> str | Response:
    form = ResetRequestForm()
    if form.validate_on_submit():
        # Called with None too: it then does the same work and sends nothing.
        send_reset_link_in_background(find_by_email(form.email.data))
        return render_template("accounts/reset_sent.html", message=SENT)
    status = 422 if form.errors else 200
    return render_template("accounts/reset_request.html", form=form), status


def reset_token_user(token: str) -> User | None:
    try:
        return tokens.read_token(tokens.RESET_PASSWORD, token).user
    except tokens.InvalidToken as invalid:
        current_app.logger.info("password reset link refused: %s", invalid)
        return None


def link_refused() -> Response:
    page = render_template(
        "accounts/link_invalid.html",
        heading="This link cannot be used",
        explanation=(
            "Password reset links work once, for 30 minutes. This one has expired, has "
            "been used already, or was not made by us."
        ),
        again_url=url_for("recovery.request_reset"),
        again_label="Ask for a new link",
    )
    return make_response(page, 400)


@bp.route("/reset_password/<token>", methods=["GET", "POST"])
def reset_with_token(token: str) -> str | Response:
    user = reset_token_user(token)
    if user is None:
        return link_refused()
    form = NewPasswordForm()
    if not form.validate_on_submit():
        response = make_response(
            render_template("accounts/reset_password.html", form=form, user=user),
            422 if form.errors else 200,
        )
        return response
    if not replace_password(user, form.password.data):
        return link_refused()  # the same link, used a moment ago by another request
    # Whoever knew the old password is out, on every device; this browser is in.
    end_sessions(user.id)
    start_session(user, remembered=False)
    db.session.commit()
    flash("Your password is changed, and every other session of your account has ended.")
    try:
        send_notice(
            user.email,
            "Your password was changed",
            "Your password was changed",
            "The password of your Hoverfeed account was just changed with a reset link, "
            "and every session of the account was ended. If this was not you, reset your "
            "password again at once.",
        )
    except MailNotSent as error:
        flash(f"{error} (the notice of this change)", "error")
    return redirect(url_for("feed.index"), 303)
