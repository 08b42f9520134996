"""The 280-character limits of a comment and an about-me: said as help beside the field
(visible without JavaScript), never a silent `maxlength` cut, counted as the server counts,
and an error that says the limit and the length."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.accounts.test_settings import post_settings
from tests.accounts.test_settings import stored_user
from tests.conversation.test_feed import post_comment
from tests.conversation.test_feed import stored_posts

TEXTAREA = re.compile(r"<textarea[^>]*>")


def textarea(html: str, name: str) -> str:
    tag = next(t for t in TEXTAREA.findall(html) if f'name="{name}"' in t)
    return tag


@pytest.mark.usefixtures("logged_in")
@pytest.mark.parametrize(("page", "name"), [("/", "body"), ("/settings", "about_me")])
def test_the_limit_is_help_text_not_a_silent_cut(client: FlaskClient, page: str, name: str) -> None:
    html = client.get(page).get_data(as_text=True)
    tag = textarea(html, name)
    assert "maxlength" not in tag
    assert 'data-char-limit="280"' in tag
    assert f'aria-describedby="{name}-help"' in tag
    assert f'<p class="field-help" id="{name}-help">At most 280 characters</p>' in html
    # The live count's place, empty and hidden without JavaScript, kept so the page does
    # not move when the script fills it.
    assert '<p class="char-count needs-js"><span class="char-count-number"></span>' in html


@pytest.mark.parametrize("htmx", [True, False])
def test_about_me_over_the_limit_says_so_and_keeps_the_text(
    app: Flask, client: FlaskClient, logged_in: int, htmx: bool
) -> None:
    text = "x" * 312
    response = post_settings(client, "/settings/profile", {"about_me": text}, htmx=htmx)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "About me is at most 280 characters (312 now)." in html
    assert re.search(rf">\s*{text}</textarea>", html)  # kept, not cut to 280
    tag = textarea(html, "about_me")
    # The help and the error both describe the field.
    assert 'aria-describedby="about_me-help about_me-errors"' in tag
    assert 'aria-invalid="true"' in tag
    assert stored_user(app).about_me == ""


@pytest.mark.usefixtures("logged_in")
def test_about_me_counts_a_line_break_once_and_leaves_outer_space_out(
    app: Flask, client: FlaskClient
) -> None:
    # 281 characters as sent (CRLF is two), 280 as stored: the counter says 280/280 too.
    text = "a" * 140 + "\r\n" + "b" * 139
    response = post_settings(client, "/settings/profile", {"about_me": f"  {text}  "}, True)
    assert response.status_code == 200
    assert stored_user(app).about_me == text.replace("\r\n", "\n")


@pytest.mark.usefixtures("logged_in")
def test_a_comment_counts_code_points(app: Flask, client: FlaskClient) -> None:
    # 280 emoji: 280 characters for Python (and for the counter), 560 UTF-16 units.
    assert post_comment(client, "🙂" * 280).status_code == 200
    response = post_comment(client, "🙂" * 281)
    assert response.status_code == 422
    assert "Comments are at most 280 characters (281 now)." in response.get_data(as_text=True)
    assert [post.body for post in stored_posts(app)] == ["🙂" * 280]
