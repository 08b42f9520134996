"""Blueprint: profile pages, the hover-card fragment, following and editing one's profile."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from jinja2_fragments.flask import render_block

from webapp.conversation.posts import user_posts_page
from webapp.core.htmx import is_htmx
from webapp.core.pagination import Cursor
from webapp.people import follows
from webapp.people.profiles import Card
from webapp.people.profiles import load_card

bp = Blueprint("users", __name__)

# Long enough that moving along a feed does not re-fetch the cards of the same few
# people; short enough that counts are near-live.
CARD_MAX_AGE = 60
CARD_CACHE_CONTROL = f"private, max-age={CARD_MAX_AGE}"
PROFILE_TEMPLATE = "people/profile.html"
CARD_TEMPLATE = "people/_card.html"


def card_or_404(username: str) -> Card:
    card = load_card(username, current_user.id)
    if card is None:
        abort(404, "There is no user by that name.")
    return card


@bp.route("/user/<username>")
@login_required
def profile(username: str) -> str:
    card = card_or_404(username)
    page = user_posts_page(card.user.id, Cursor.decode(request.args.get("before")))
    if is_htmx():
        return render_block(PROFILE_TEMPLATE, "posts_page", page=page, card=card)
    return render_template(PROFILE_TEMPLATE, card=card, page=page)


@bp.route("/user/<username>/popup")
@login_required
def popup(username: str) -> Response:
    card = card_or_404(username)
    response = make_response(render_template(CARD_TEMPLATE, card=card, popover=True))
    # Private: the card says whether *you* follow them. Varying on HX-Request keeps the
    # fragment and any full page at this URL apart in caches. (Plain strings: this is the
    # hottest response there is, and the header objects cost more than the card's query.)
    response.headers["Cache-Control"] = CARD_CACHE_CONTROL
    response.headers["Vary"] = "HX-Request, Cookie"
    return response


@bp.route("/user/<username>/follow", methods=["POST"])
@login_required
def follow(username: str) -> str | Response:
    return change_follow(username, follows.follow)


@bp.route("/user/<username>/unfollow", methods=["POST"])
@login_required
def unfollow(username: str) -> str | Response:
    return change_follow(username, follows.unfollow)


def change_follow(username: str, action: Callable[[int, int], bool]) -> str | Response:
    # CSRFProtect has checked the token before we get here.
    card = card_or_404(username)
    try:
        action(current_user.id, card.user.id)
    except follows.UserGone:
        abort(404, "There is no user by that name.")
    except follows.CannotFollowSelf as refusal:
        if is_htmx():
            return make_response(str(refusal), 400)
        flash(str(refusal), "error")
        return redirect(url_for("users.profile", username=card.user.username), 303)
    if is_htmx():
        # The button and the counts, swapped in place wherever the card is shown.
        return render_block(CARD_TEMPLATE, "social", card=card_or_404(username))
    return redirect(url_for("users.profile", username=card.user.username), 303)


@bp.route("/edit_profile", methods=["GET", "POST"])
def edit_profile() -> Response:
    """The profile form moved to Settings; old links and bookmarks land there (a POST keeps
    its method and body with 307)."""
    if request.method == "POST":
        return redirect(url_for("settings.profile"), 307)
    return redirect(url_for("settings.index", _anchor="profile"))
