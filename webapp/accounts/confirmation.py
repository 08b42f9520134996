"""Blueprint: the links mailed to confirm an address and to change it.

A link opens a page with a button; only the button (a POST with its CSRF token) changes
anything. Mail scanners and link previews open links, and must not confirm or change an
address on someone's behalf.
"""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import current_app
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user

from webapp.accounts import tokens
from webapp.accounts.credentials import AddressChanged
from webapp.accounts.credentials import EmailTaken
from webapp.accounts.credentials import change_email as store_new_email
from webapp.accounts.credentials import mark_email_confirmed
from webapp.accounts.forms import ActionForm
from webapp.core.extensions import db

bp = Blueprint("confirm", __name__)


def refused(explanation: str) -> Response:
    again = url_for("settings.index", _anchor="email")
    page = render_template(
        "accounts/link_invalid.html",
        heading="This link cannot be used",
        explanation=explanation,
        again_url=again,
        again_label="Go to your e-mail settings",
    )
    return make_response(page, 400)


def after_confirming() -> Response:
    if current_user.is_authenticated:
        return redirect(url_for("settings.index", _anchor="email"), 303)
    return redirect(url_for("auth.login"), 303)


def confirm_page(heading: str, text: str, button: str) -> str:
    return render_template(
        "accounts/confirm_link.html", heading=heading, text=text, button=button, form=ActionForm()
    )


@bp.route("/confirm_email/<token>", methods=["GET", "POST"])
def confirm_email(token: str) -> str | Response:
    try:
        use = tokens.read_token(tokens.CONFIRM_EMAIL, token)
    except tokens.InvalidToken as invalid:
        current_app.logger.info("confirmation link refused: %s", invalid)
        return refused(
            "Confirmation links work for 48 hours, for the address they were sent to. This "
            "one has expired, is for an address the account no longer uses, or was not "
            "made by us."
        )
    user = use.user
    if user.email_confirmed:
        flash("Your e-mail address is confirmed already.", "info")
        return after_confirming()
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        mark_email_confirmed(user)
        db.session.commit()
        flash("Thank you: your e-mail address is confirmed.", "success")
        return after_confirming()
    return confirm_page(
        "Confirm your e-mail address",
        f"Confirm {user.email} as the address of the account {user.username}.",
        "Confirm my address",
    )


@bp.route("/change_email/<token>", methods=["GET", "POST"])
def change_email(token: str) -> str | Response:
    try:
        use = tokens.read_token(tokens.CHANGE_EMAIL, token)
    except tokens.InvalidToken as invalid:
        current_app.logger.info("address change link refused: %s", invalid)
        return refused(
            "Address change links work once, for 30 minutes. This one has expired, has been "
            "used already, or was not made by us. Your account keeps its current address."
        )
    user, new_email = use.user, str(use.payload.get("new_email", ""))
    form = ActionForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            store_new_email(user, new_email)
        except EmailTaken as taken:
            return refused(f"{taken} Your account keeps its current address.")
        except AddressChanged:
            return refused("This link has been used already.")
        flash(f"Your e-mail address is now {new_email}.", "success")
        return after_confirming()
    return confirm_page(
        "Change your e-mail address",
        f"Make {new_email} the address of the account {user.username}.",
        "Use this address",
    )
