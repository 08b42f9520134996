"""Blueprint: threads. A page per comment (/c/<id>) with its replies, replying in place,
and the earlier replies a feed item or a thread page loads on demand."""

from __future__ import annotations

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

from webapp.conversation.forms import ReplyForm
from webapp.conversation.posts import REPLIES_PAGE_SIZE
from webapp.conversation.posts import NoSuchComment
from webapp.conversation.posts import PostView
from webapp.conversation.posts import find_comment
from webapp.conversation.posts import is_shown
from webapp.conversation.posts import newer_replies
from webapp.conversation.posts import post_comment
from webapp.conversation.posts import replies_page
from webapp.conversation.posts import thread_exists
from webapp.core.htmx import is_htmx
from webapp.core.pagination import Cursor

bp = Blueprint("threads", __name__)

THREAD = "conversation/thread.html"
REPLY_PAGE = "conversation/reply.html"
# Post ids are 32-bit integers on PostgreSQL: a bigger one is no comment, not a database
# error.
MAX_ID = 2**31 - 1
GONE = "That comment was deleted, or never existed."
# The thread page's own reply form (the `#reply` a Reply link without JavaScript aims at);
# a form opened in place under a comment is `reply-form-<id>`.
THREAD_FORM_ID = "reply"


def shown_comment(post_id: int) -> PostView:
    """The comment a page may show, or a 404."""
    comment = find_comment(post_id) if 0 < post_id <= MAX_ID else None
    if comment is None or not is_shown(comment):
        abort(404, GONE)
    return comment


def live_comment(post_id: int) -> PostView:
    """A comment one may answer (not deleted), or a 404."""
    comment = shown_comment(post_id)
    if comment.deleted:
        abort(404, GONE)
    return comment


@bp.route("/c/<int:post_id>")
@login_required
def thread(post_id: int) -> str | Response:
    """A top comment and its latest replies (earlier ones a page back); for a reply, its
    thread, scrolled to it."""
    before = Cursor.decode(request.args.get("before"))
    comment = shown_comment(post_id)
    if comment.parent_id is not None:
        return redirect(reply_location(comment))
    page = replies_page(comment.id, before)
    form = ReplyForm(formdata=None)
    return render_template(
        THREAD, top=comment, top_id=comment.id, page=page, form=form, older=before is not None
    )


def reply_location(reply: PostView) -> str:
    """Where a reply is shown: its thread's page, the latest one unless the reply is
    further back (then the page that ends with it)."""
    anchor = f"post-{reply.id}"
    if newer_replies(reply, REPLIES_PAGE_SIZE) < REPLIES_PAGE_SIZE:
        return url_for("threads.thread", post_id=reply.parent_id, _anchor=anchor)
    # The page of replies before (timestamp, id + 1): the ones up to this reply, included.
    through = Cursor(reply.timestamp, reply.id + 1).encode()
    return url_for("threads.thread", post_id=reply.parent_id, before=through, _anchor=anchor)


@bp.route("/c/<int:post_id>/replies")
@login_required
def replies(post_id: int) -> str | Response:
    """The replies before a cursor (all the latest ones without): for "Show all N replies"
    and "Show earlier replies", which put them in place of themselves."""
    before = Cursor.decode(request.args.get("before"))
    if not 0 < post_id <= MAX_ID:
        abort(404, GONE)
    if not is_htmx():
        before_arg = request.args.get("before")
        return redirect(url_for("threads.thread", post_id=post_id, before=before_arg))
    page = replies_page(post_id, before)
    # An empty page is rare (a forged cursor, replies deleted meanwhile): only then is it
    # worth a statement to tell an unknown comment from one with nothing earlier.
    if not page.items and not thread_exists(post_id):
        abort(404, GONE)
    return render_block(THREAD, "replies_page", top_id=post_id, page=page, focus_first=True)


@bp.route("/c/<int:post_id>/reply-form")
@login_required
def reply_form(post_id: int) -> str:
    """The form answering one comment: in place under it (htmx), or a page of its own."""
    target = live_comment(post_id)
    # Answering a reply starts with its author's name, which becomes a mention.
    prefill = f"@{target.author.username} " if target.parent_id is not None else ""
    form = ReplyForm(formdata=None, data={"body": prefill})
    return render_reply_form(target, form)


def render_reply_form(target: PostView, form: ReplyForm) -> str:
    if is_htmx():
        return render_template(
            "conversation/_reply_form.html", target=target, form=form, form_id=slot_form_id(target)
        )
    return render_template(REPLY_PAGE, target=target, form=form, form_id=THREAD_FORM_ID)


def slot_form_id(target: PostView) -> str:
    return f"reply-form-{target.id}"


@bp.route("/c/<int:post_id>/replies", methods=["POST"])
@login_required
def reply(post_id: int) -> str | Response:
    form = ReplyForm()
    if not 0 < post_id <= MAX_ID:
        abort(404, GONE)
    if not form.validate_on_submit():
        return invalid_reply(post_id, form)
    try:
        post, created = post_comment(current_user, form.body.data, reply_to=post_id)
    except NoSuchComment:
        abort(404, GONE)
    if not is_htmx():
        flash("Your reply is live." if created else "You had just posted that.", "success")
        return redirect(
            url_for("threads.thread", post_id=post.parent_id, _anchor=f"post-{post.id}"), 303
        )
    # The reply goes at the end of its thread (the form's target); the form closes, or,
    # on the thread page, starts again empty. A repeat adds nothing to the page.
    item = render_template("conversation/_post.html", post=post, in_thread=True) if created else ""
    if request.headers.get("HX-Trigger") == THREAD_FORM_ID:
        fresh = ReplyForm(formdata=None)
        top_id = post.parent_id
        return item + render_block(THREAD, "reply_form", top_id=top_id, form=fresh, oob=True)
    return item + f'<div class="reply-slot" id="reply-slot-{post_id}" hx-swap-oob="true"></div>'


def invalid_reply(post_id: int, form: ReplyForm) -> Response:
    target = live_comment(post_id)
    if not is_htmx():
        page = render_template(REPLY_PAGE, target=target, form=form, form_id=THREAD_FORM_ID)
        return make_response(page, 422)
    form_id = request.headers.get("HX-Trigger")
    if form_id == THREAD_FORM_ID:
        top_id = target.parent_id or target.id
        fragment = render_block(THREAD, "reply_form", top_id=top_id, form=form)
    else:
        form_id = slot_form_id(target)
        fragment = render_template(
            "conversation/_reply_form.html", target=target, form=form, form_id=form_id
        )
    response = make_response(fragment, 422)
    # The errors belong in the form, not in the thread it was aimed at.
    response.headers["HX-Retarget"] = f"#{form_id}"
    response.headers["HX-Reswap"] = "outerHTML"
    return response
