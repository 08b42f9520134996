"""Blueprint: the feed (everyone's comments, newest first) and posting to it."""

from __future__ import annotations

from flask import Blueprint
from flask import Response
from flask import flash
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required
from jinja2_fragments.flask import render_block
from werkzeug.exceptions import BadRequest

from webapp.conversation import news
from webapp.conversation.forms import PostForm
from webapp.conversation.posts import PostView
from webapp.conversation.posts import feed_page
from webapp.conversation.posts import post_comment
from webapp.core.htmx import is_htmx
from webapp.core.pagination import PAGE_SIZE
from webapp.core.pagination import Cursor
from webapp.core.pagination import Page

bp = Blueprint("feed", __name__)

TEMPLATE = "conversation/index.html"


@bp.route("/index")
@bp.route("/")  # registered last, so url_for("feed.index") is "/"
@login_required
def index() -> str:
    page = feed_page(Cursor.decode(request.args.get("before")))
    if is_htmx():
        # "Load more": only the next items and the next "Load more".
        return render_block(TEMPLATE, "feed_page", page=page)
    return render_template(
        TEMPLATE, page=page, form=PostForm(), older=bool(request.args), **news_context(page)
    )


# "N new comments" -----------------------------------------------------------------------
# The feed's top holds a poller (templates/conversation/_new_comments.html) that asks
# news_check every news.POLL_SECONDS while its tab is visible (data-poll, static/js/app.js).


def news_cursor() -> Cursor:
    cursor = Cursor.decode(request.args.get("after"))
    if cursor is None:
        raise BadRequest("That page link is not valid.")
    return cursor


def news_context(page: Page[PostView]) -> dict[str, object]:
    """What the feed's top needs for its poller: the newest comment it shows."""
    after = news.newest_cursor(page.items, news.START)
    return {"after": after.encode(), "count": 0, "poll_seconds": news.POLL_SECONDS}


def news_region(after: Cursor, count: int) -> str:
    return render_template(
        "conversation/_new_comments.html",
        after=after.encode(),
        count=count,
        label=news.news_label(count),
        page_size=PAGE_SIZE,
        poll_seconds=news.POLL_SECONDS,
    )


@bp.route("/feed/new")
@login_required
def news_check() -> str | Response:
    """The check: 204 (htmx swaps nothing) unless the count differs from the one the
    button already shows; else the poller again and the button."""
    after = news_cursor()
    count = news.count_new(after, current_user.id)
    if count == request.args.get("shown", 0, type=int):
        return Response(status=204)
    return news_region(after, count)


@bp.route("/feed/new/items")
@login_required
def news_items() -> str:
    """The new comments for the top of the list, and (out of band) a poller whose cursor
    is the newest of them, so they are not announced again."""
    after = news_cursor()
    posts = news.new_posts(after, current_user.id)
    newest = news.newest_cursor(posts, after)
    return render_template(
        "conversation/_new_items.html",
        posts=posts,
        after=newest.encode(),
        count=0,
        poll_seconds=news.POLL_SECONDS,
    )


@bp.route("/", methods=["POST"])
@login_required
def new_post() -> str | Response:
    form = PostForm()
    if not form.validate_on_submit():
        return invalid_post(form)
    post, created = post_comment(current_user, form.body.data)
    if not is_htmx():
        flash("Your comment is live." if created else "You had just posted that.", "success")
        return redirect(url_for("feed.index"), 303)
    # The new comment goes on top of the list (a repeat of one just posted adds nothing);
    # a fresh, empty form replaces the old one.
    new_item = render_template("conversation/_post.html", post=post) if created else ""
    fresh_form = render_block(TEMPLATE, "post_form", form=PostForm(formdata=None), oob=True)
    return new_item + fresh_form


def invalid_post(form: PostForm) -> Response:
    if is_htmx():
        response = make_response(render_block(TEMPLATE, "post_form", form=form), 422)
        # The errors belong in the form, not at the top of the list it was aimed at.
        response.headers["HX-Retarget"] = "#post-form"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    page = feed_page(None)
    return make_response(
        render_template(TEMPLATE, page=page, form=form, older=False, **news_context(page)), 422
    )
