"""Blueprint: the settings page, one section per concern.

Profile, Profile cards, Password, E-mail, Sessions, Your data, Delete account. Each
section's form posts with htmx and gets back only that section (its errors inline, status
422); without JavaScript each is an ordinary POST, redirect, GET. Other features add
sections by adding a block to templates/settings/index.html and a view here that answers
with `section()`.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint
from flask import Response
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from jinja2_fragments.flask import render_block

from webapp.accounts import account_data
from webapp.accounts import deletion
from webapp.accounts.credentials import email_in_use
from webapp.accounts.credentials import password_matches
from webapp.accounts.credentials import set_password
from webapp.accounts.emails import send_address_change_link
from webapp.accounts.emails import send_confirmation
from webapp.accounts.emails import send_notice
from webapp.accounts.forms import ActionForm
from webapp.accounts.forms import ChangeEmailForm
from webapp.accounts.forms import ChangePasswordForm
from webapp.accounts.forms import DeleteAccountForm
from webapp.accounts.identity import normalise_email
from webapp.accounts.sessions import current_account
from webapp.accounts.sessions import end_current_session
from webapp.accounts.sessions import end_session
from webapp.accounts.sessions import end_sessions
from webapp.accounts.sessions import live_sessions
from webapp.accounts.sessions import remember_stored
from webapp.accounts.sessions import start_session
from webapp.core.extensions import db
from webapp.core.htmx import is_htmx
from webapp.core.mail import MailNotSent
from webapp.people.forms import CardSettingsForm
from webapp.people.forms import EditProfileForm
from webapp.people.profiles import update_about_me
from webapp.people.profiles import update_card_setting

bp = Blueprint("settings", __name__, url_prefix="/settings")

TEMPLATE = "settings/index.html"
WRONG_PASSWORD = "That is not your current password."


def page_context(**overrides: Any) -> dict[str, Any]:
    """Everything the page shows, with fresh forms unless a view passes its own."""
    profile_form = EditProfileForm(formdata=None)
    profile_form.about_me.data = current_user.about_me
    cards_form = CardSettingsForm(formdata=None)
    cards_form.show_hovercards.data = current_user.show_hovercards
    context: dict[str, Any] = {
        "profile_form": profile_form,
        "cards_form": cards_form,
        "password_form": ChangePasswordForm(formdata=None),
        "email_form": ChangeEmailForm(formdata=None),
        "action_form": ActionForm(formdata=None),
        "delete_form": DeleteAccountForm(formdata=None),
        "sessions": live_sessions(current_user.id),
        "this_session_id": current_user.current_session.id,
        "notice": None,
        "problem": None,
    }
    context.update(overrides)
    return context


def section(name: str, status: int = 200, notice: str | None = None, **context: Any):
    """The answer to a section's form: with htmx, the section alone (errors inline, 422);
    without, a redirect back to it after success or the whole page with its errors."""
    if is_htmx():
        html = render_block(TEMPLATE, f"{name}_section", **page_context(notice=notice, **context))
        return make_response(html, status)
    if status < 400:
        if notice:
            flash(notice, "success")
        if context.get("problem"):
            flash(context["problem"], "error")
        return redirect(url_for("settings.index", _anchor=name), 303)
    return make_response(render_template(TEMPLATE, **page_context(**context)), status)


@bp.route("")
@login_required
def index() -> str:
    return render_template(TEMPLATE, **page_context())


@bp.route("/profile", methods=["POST"])
@login_required
def profile() -> Response:
    form = EditProfileForm()
    if not form.validate_on_submit():
        return section("profile", 422, profile_form=form)
    update_about_me(current_user.id, form.about_me.data)
    # The form holds what was just stored (current_user is this request's snapshot).
    return section("profile", notice="Your profile is saved.", profile_form=form)


@bp.route("/cards", methods=["POST"])
@login_required
def cards() -> Response:
    form = CardSettingsForm()
    if not form.validate_on_submit():
        return section("cards", 422, problem="The form was out of date. Please try again.")
    update_card_setting(current_user.id, form.show_hovercards.data)
    # The rest of this request shows the setting just stored.
    remember_stored(show_hovercards=form.show_hovercards.data)
    if current_user.show_hovercards:
        notice = "Profile cards are on."
    else:
        notice = "Profile cards are off: names are plain links to profiles."
    return section("cards", notice=notice)


@bp.route("/password", methods=["POST"])
@login_required
def password() -> Response:
    form = ChangePasswordForm()
    if not form.validate_on_submit():
        return section("password", 422, password_form=form)
    if not password_matches(current_user, form.current_password.data):
        form.current_password.errors.append(WRONG_PASSWORD)
        return section("password", 422, password_form=form)
    account = current_account()
    set_password(account, form.password.data)
    # Anyone else who knew the old password is logged out. This browser stays in, under a
    # new session id: a copy of its old cookie dies too.
    remembered = current_user.current_session.remembered
    ended = end_sessions(current_user.id) - 1
    start_session(account, remembered, keep_flask_session=True)
    db.session.commit()
    problem = notify(
        "Your password was changed",
        "The password of your Hoverfeed account was just changed from its settings page, "
        "and the account's other sessions were ended. If this was not you, reset your "
        "password at once.",
    )
    others = f" {ended} other session{'s' if ended != 1 else ''} ended." if ended else ""
    return section("password", notice=f"Your password is changed.{others}", problem=problem)


def notify(subject: str, body: str, address: str | None = None) -> str | None:
    """Mail a notice after the change it reports is committed; the problem text, if any."""
    try:
        send_notice(address or current_user.email, subject, subject, body)
    except MailNotSent as error:
        return f"{error} (the notice of this change)"
    return None


@bp.route("/email", methods=["POST"])
@login_required
def email() -> Response:
    form = ChangeEmailForm()
    if not form.validate_on_submit():
        return section("email", 422, email_form=form)
    if not password_matches(current_user, form.current_password.data):
        form.current_password.errors.append(WRONG_PASSWORD)
        return section("email", 422, email_form=form)
    new_email = normalise_email(form.email.data)
    if new_email == current_user.email:
        form.email.errors.append("That is your address already.")
        return section("email", 422, email_form=form)
    if email_in_use(new_email):
        form.email.errors.append("That email address is already registered.")
        return section("email", 422, email_form=form)
    # Nothing is stored until the link is followed: the link itself carries the new address.
    try:
        send_address_change_link(current_user, new_email)
    except MailNotSent as error:
        return section("email", 422, email_form=form, problem=str(error))
    problem = notify(
        "Your e-mail address is changing",
        f"Someone (we hope you) asked to make {new_email} the address of your Hoverfeed "
        "account. Nothing changes unless the link sent there is followed within 30 minutes. "
        "If this was not you, change your password.",
    )
    return section(
        "email",
        notice=f"We have sent a link to {new_email}. Your address changes when you follow it.",
        problem=problem,
    )


@bp.route("/email/confirmation", methods=["POST"])
@login_required
def resend_confirmation() -> Response:
    if not ActionForm().validate_on_submit():
        return section("email", 422, problem="The form was out of date. Please try again.")
    if current_user.email_confirmed:
        return section("email", notice="Your address is confirmed already.")
    try:
        send_confirmation(current_user)
    except MailNotSent as error:
        return section("email", 422, problem=str(error))
    return section("email", notice=f"We have sent a confirmation link to {current_user.email}.")


# Bounded like the column: a larger number is a 404, not an overflow in the driver.
@bp.route("/sessions/<int(max=2147483647):session_id>/end", methods=["POST"])
@login_required
def end_one_session(session_id: int) -> Response:
    if session_id == current_user.current_session.id:
        return section("sessions", 422, problem="Use Log out at the top to end this session.")
    if not end_session(current_user.id, session_id):
        return section("sessions", 422, problem="That session has ended already.")
    db.session.commit()
    return section("sessions", notice="That session is logged out.")


@bp.route("/sessions/end-others", methods=["POST"])
@login_required
def end_other_sessions() -> Response:
    ended = end_sessions(current_user.id, keep_id=current_user.current_session.id)
    db.session.commit()
    return section(
        "sessions", notice=f"{ended} other session{'s' if ended != 1 else ''} logged out."
    )


@bp.route("/data.json")
@login_required
def download_data() -> Response:
    data = account_data.export(current_user)
    response = make_response(json.dumps(data, ensure_ascii=False, indent=2))
    response.mimetype = "application/json"
    filename = f"hoverfeed-{current_user.username_canon}.json"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.route("/delete", methods=["POST"])
@login_required
def delete_account() -> Response:
    form = DeleteAccountForm()
    if not form.validate_on_submit():
        return section("delete", 422, delete_form=form)
    if not password_matches(current_user, form.current_password.data):
        form.current_password.errors.append(WRONG_PASSWORD)
        return section("delete", 422, delete_form=form)
    if form.username.data.strip() != current_user.username:
        form.username.errors.append(f"Type {current_user.username} exactly, to confirm.")
        return section("delete", 422, delete_form=form)
    user_id, address, username = current_user.id, current_user.email, current_user.username
    # This browser forgets its cookie first, in the deletion's transaction: afterwards its
    # session object is expired and its row gone (after a deadlock retry on PostgreSQL,
    # reading it again raised ObjectDeletedError: a 500 for an account already deleted).
    end_current_session()
    deletion.delete_account(user_id)  # its sessions too: every device is logged out
    problem = notify(
        "Your account is deleted",
        f"The Hoverfeed account {username} and everything in it (comments, follows and "
        "sessions) were deleted at its owner's request. This cannot be undone.",
        address=address,
    )
    flash(f"Your account {username} is deleted. Goodbye!", "info")
    if problem:
        flash(problem, "error")
    target = url_for("auth.login")
    if is_htmx():
        response = make_response("", 200)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target, 303)
