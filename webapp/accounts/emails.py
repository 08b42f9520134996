"""The e-mails an account receives. Each is sent after the database commit that it reports
(never inside a transaction), and its links are built from PUBLIC_URL, never from the
request's Host."""

from __future__ import annotations

from flask import Response
from flask import after_this_request
from flask import current_app

from webapp.accounts import tokens
from webapp.accounts.models import User
from webapp.accounts.passwords import dummy_hash
from webapp.accounts.request_user import Account
from webapp.core.mail import build_message
from webapp.core.mail import deliver_in_background
from webapp.core.mail import external_url
from webapp.core.mail import send_mail


def send_confirmation(user: Account) -> None:
    """ "Confirm your address" with a 48-hour link. Raises MailNotSent."""
    token = tokens.make_token(tokens.CONFIRM_EMAIL, user)
    send_mail(
        user.email,
        "Confirm your e-mail address",
        "confirm_email",
        user=user,
        link=external_url("confirm.confirm_email", token=token),
        hours=int(tokens.CONFIRM_EMAIL.lifetime.total_seconds() // 3600),
    )


#: Who the reset message is made out to when no account has the address asked for.
STAND_IN_ADDRESS = "nobody@example.invalid"


def stand_in_account() -> User:
    """An account that is never stored (id 0 belongs to nobody), to make a message for."""
    return User(
        id=0,
        username="nobody",
        email=STAND_IN_ADDRESS,
        password_hash=dummy_hash(),
    )


def send_reset_link_in_background(user: User | None) -> None:
    """The password-reset link, mailed once the response has gone out. Call from the view that
    answers the request; failures are logged, never shown.

    The page must answer in the same time whether or not an account has the address:
    - with no account (`user` None) the same message is made, token and all, for a stand-in
      and dropped, so both answers do the same work (the stand-in's address is ours, never
      the typed text: a header built from that could fail where the real one would not);
    - the message goes to the mail threads only when the server closes the response, after
      its last byte: started earlier, the SMTP exchange would compete with the rest of the
      request for the interpreter (the GIL) and make the answer measurably slower.
    """
    account = user if user is not None else stand_in_account()
    token = tokens.make_token(tokens.RESET_PASSWORD, account)
    message = build_message(
        account.email,
        "Reset your password",
        "reset_password",
        user=account,
        link=external_url("recovery.reset_with_token", token=token),
        minutes=int(tokens.RESET_PASSWORD.lifetime.total_seconds() // 60),
    )
    if user is None:
        return
    app = current_app._get_current_object()

    @after_this_request
    def send_once_answered(response: Response) -> Response:
        response.call_on_close(lambda: deliver_in_background(app, message))
        return response


def send_address_change_link(user: Account, new_email: str) -> None:
    """The link that makes `new_email` the account's address, sent to that address."""
    token = tokens.make_token(tokens.CHANGE_EMAIL, user, new_email=new_email)
    send_mail(
        new_email,
        "Confirm your new e-mail address",
        "change_email",
        user=user,
        link=external_url("confirm.change_email", token=token),
        minutes=int(tokens.CHANGE_EMAIL.lifetime.total_seconds() // 60),
    )


def send_notice(address: str, subject: str, heading: str, body: str) -> None:
    """A short notice of something that happened to the account (password changed, address
    changing, account deleted). Raises MailNotSent."""
    send_mail(address, subject, "notice", heading=heading, body=body)
