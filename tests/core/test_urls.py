"""The fast user URLs are exactly what url_for would build."""

from __future__ import annotations

import pytest
from flask import Flask
from flask import url_for

from webapp.core.urls import comment_url
from webapp.core.urls import user_url


@pytest.mark.parametrize("script_root", ["", "/feed-app"])
@pytest.mark.parametrize("name", ["alice", "Bob_2", "name with space", "ünï", "a/b", "%"])
def test_user_url_matches_url_for(app: Flask, script_root: str, name: str) -> None:
    with app.test_request_context("/", base_url=f"http://localhost{script_root}/"):
        assert url_for("feed.index").startswith(script_root + "/")
        for endpoint, argument in [
            ("users.profile", "username"),
            ("users.popup", "username"),
            ("main.avatar", "name"),
        ]:
            assert user_url(endpoint, name, argument) == url_for(endpoint, **{argument: name})


@pytest.mark.parametrize("script_root", ["", "/feed-app", "/918273645"])
@pytest.mark.parametrize("post_id", [1, 7, 918273645, 2**31 - 1])
def test_comment_url_matches_url_for(app: Flask, script_root: str, post_id: int) -> None:
    with app.test_request_context("/", base_url=f"http://localhost{script_root}/"):
        assert url_for("feed.index").startswith(script_root + "/")
        for endpoint in ["threads.thread", "threads.reply_form", "edits.edit", "edits.delete"]:
            assert comment_url(endpoint, post_id) == url_for(endpoint, post_id=post_id)
