"""Blueprint: editing one's own comment, deleting it and Undo.

With htmx each answer is a fragment swapped in place: the edit form over the comment's
content, the comment again after Save or Cancel, "Comment deleted · Undo" in the comment's
place. Without JavaScript the same URLs are plain pages and forms, answered with a 303 back
to the page the person came from (a local path only, see `back_path`) and a flash.
"""

from __future__ import annotations

from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Blueprint
from flask import Response
from flask import abort
from flask import flash
from flask import g
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_login import current_user
from flask_login import login_required

from webapp.conversation import edits
from webapp.conversation.edits import CommentNotFound
from webapp.conversation.edits import NotYourComment
from webapp.conversation.edits import TooLate
from webapp.conversation.forms import EditForm
from webapp.conversation.posts import PostView
from webapp.conversation.posts import find_comment
from webapp.conversation.posts import is_shown
from webapp.core.htmx import current_page_endpoint
from webapp.core.htmx import is_background
from webapp.core.htmx import is_htmx
from webapp.core.redirects import is_safe_local_path

bp = Blueprint("edits", __name__)

POST_ID = "<int:post_id>"
# Ids beyond a 32-bit integer are no comment's: not found, before PostgreSQL would refuse
# them (a 500). Checked here rather than by the converter's `max`: Werkzeug answers a POST
# whose id fails `max` with 405 (the GET rule of the same path "matched").
MAX_POST_ID = 2**31 - 1
ITEM = "conversation/_item.html"
# Pages that show comments in their threads: there Reply opens its form in place.
THREADED_PAGES = {"feed.index", "threads.thread"}
EDIT_FORM = "conversation/_edit_form.html"
EDIT_PAGE = "conversation/edit.html"
NOTICE = "conversation/_deleted_notice.html"


@bp.url_value_preprocessor
def refuse_impossible_ids(_endpoint: str | None, values: dict | None) -> None:
    if values and values.get("post_id", 0) > MAX_POST_ID:
        abort(404, edits.NOT_FOUND)


@bp.app_template_test("mine")
def is_mine(post: PostView) -> bool:
    """`post is mine`: whether the viewer wrote this comment (its Edit and Delete controls
    show). A test, not a global: see core/templating.py for what a global's call costs.

    Called for every comment of a page (up to sixty): it reads the request's user where
    Flask-Login keeps it once loaded (as sessions.start_session sets it), not through the
    current_user proxy, which costs several lookups a call (the first call loads it, if
    nothing has yet)."""
    viewer = g.get("_login_user")
    if viewer is None:
        viewer = current_user._get_current_object()
    return post.user_id == getattr(viewer, "id", None)


@bp.app_template_test("still_editable")
def can_still_edit(post: PostView) -> bool:
    return edits.can_still_edit(post)


def referrer_path() -> str | None:
    """The path and query of the page that sent this request, when it is one of ours."""
    try:
        parts = urlsplit(request.referrer or "")
    except ValueError:
        return None
    if not parts.netloc or parts.netloc.lower() != request.host.lower():
        return None
    return urlunsplit(("", "", parts.path, parts.query, ""))


def back_path() -> str:
    """Where "back" is: the form's `next`, else the referring page, when either is a safe
    local path; else the feed."""
    for candidate in (request.form.get("next"), request.args.get("next"), referrer_path()):
        if is_safe_local_path(candidate):
            return candidate
    return url_for("feed.index")


def refuse(error: Exception) -> None:
    if isinstance(error, NotYourComment):
        abort(403, str(error))
    abort(404, str(error))


def render_notice(post_id: int, message: str | None) -> str:
    """The notice "Comment deleted · Undo" (or `message`) in the comment's place."""
    seconds = int(edits.UNDO_NOTICE.total_seconds())
    return render_template(NOTICE, post_id=post_id, message=message, notice_seconds=seconds)


def render_item(post: PostView, focus: str | None = None) -> str:
    """The comment alone (its thread's other comments stay where they are), with Reply
    working as it does on the page it goes back into. `focus` ("edit" or "delete"): the
    control that takes focus when htmx swaps it in, so a keyboard user goes on where they
    were instead of starting again from the top of the page."""
    in_thread = current_page_endpoint() in THREADED_PAGES
    return render_template(ITEM, post=post, in_thread=in_thread, focus=focus)


@bp.route(f"/c/{POST_ID}/item")
@login_required
def item(post_id: int) -> str:
    """One comment as everyone sees it now: the comment, its "deleted" placeholder, or
    nothing once it is gone (what Cancel, and the Undo notice running out, swap in)."""
    post = find_comment(post_id)
    if post is None:
        abort(404, edits.NOT_FOUND)
    if not is_shown(post):
        return ""
    # Cancel: back to Edit. The Undo notice running out is a background request: the
    # person may be anywhere on the page, and focus stays where it is.
    return render_item(post, focus=None if is_background() else "edit")


@bp.route(f"/c/{POST_ID}/edit")
@login_required
def edit(post_id: int) -> str | Response:
    try:
        post = edits.own_live_post(post_id, current_user.id)
    except (CommentNotFound, NotYourComment) as error:
        refuse(error)
    form = EditForm(formdata=None, body=post.body, next=back_path())
    status = 200
    if not edits.can_still_edit(post):
        form.form_errors.append(edits.TOO_LATE_TO_EDIT)
        status = 422
    return render_edit(post, form, status)


@bp.route(f"/c/{POST_ID}/edit", methods=["POST"])
@login_required
def save(post_id: int) -> str | Response:
    try:
        post = edits.own_live_post(post_id, current_user.id)
    except (CommentNotFound, NotYourComment) as error:
        refuse(error)
    form = EditForm()
    if not form.validate_on_submit():
        return render_edit(post, form, 422)
    try:
        edits.edit_post(post_id, current_user.id, form.body.data)
    except (CommentNotFound, NotYourComment) as error:
        refuse(error)
    except TooLate as error:
        # The person's text stays in the form, with the reason beside it.
        form.form_errors.append(str(error))
        return render_edit(post, form, 422)
    if not is_htmx():
        flash("Your comment was updated.", "success")
        return redirect(f"{back_path()}#post-{post_id}", 303)
    return render_item(find_comment(post_id), focus="edit")


def render_edit(post: PostView, form: EditForm, status: int) -> Response:
    # The feed's own form has a field "body" too: an id of its own keeps the label (and
    # the errors' aria-describedby) pointing at this one.
    form.body.id = form.body.label.field_id = f"post-{post.id}-body"
    template = EDIT_FORM if is_htmx() else EDIT_PAGE
    # The posted `next` is checked like any other way back (never a link elsewhere).
    page = render_template(template, post=post, form=form, back=back_path())
    return make_response(page, status)


@bp.route(f"/c/{POST_ID}/delete", methods=["POST"])
@login_required
def delete(post_id: int) -> str | Response:
    try:
        edits.delete_post(post_id, current_user.id)
    except (CommentNotFound, NotYourComment) as error:
        refuse(error)
    if not is_htmx():
        flash({"text": "Comment deleted.", "undo": post_id}, "success")
        back = back_path()
        # Deleted from its own page: that page may be gone with it (a 404 holding the
        # Undo), so back to the feed.
        if urlsplit(back).path == url_for("threads.thread", post_id=post_id):
            back = url_for("feed.index")
        return redirect(back, 303)
    return render_notice(post_id, None)


@bp.route(f"/c/{POST_ID}/restore", methods=["POST"])
@login_required
def restore(post_id: int) -> str | Response:
    try:
        edits.restore_post(post_id, current_user.id)
    except (CommentNotFound, NotYourComment) as error:
        refuse(error)
    except TooLate as error:
        if not is_htmx():
            abort(409, str(error))
        # In the notice's place; it goes away like the notice would have.
        return make_response(render_notice(post_id, str(error)), 422)
    if not is_htmx():
        flash("Comment restored.", "success")
        return redirect(f"{back_path()}#post-{post_id}", 303)
    return render_item(find_comment(post_id), focus="delete")
