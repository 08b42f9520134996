"""The fast user, comment and static URLs are exactly what url_for would build."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from flask import Flask
from flask import url_for

from webapp.core import static_files
from webapp.core.urls import comment_url
from webapp.core.urls import static_url
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
            assert user_url(name, endpoint, argument) == url_for(endpoint, **{argument: name})


@pytest.mark.parametrize("script_root", ["", "/feed-app", "/918273645"])
@pytest.mark.parametrize("post_id", [1, 7, 918273645, 2**31 - 1])
def test_comment_url_matches_url_for(app: Flask, script_root: str, post_id: int) -> None:
    with app.test_request_context("/", base_url=f"http://localhost{script_root}/"):
        assert url_for("feed.index").startswith(script_root + "/")
        for endpoint in ["threads.thread", "threads.reply_form", "edits.edit", "edits.delete"]:
            assert comment_url(post_id, endpoint) == url_for(endpoint, post_id=post_id)


@pytest.mark.parametrize("script_root", ["", "/feed-app"])
def test_static_url_matches_url_for_and_is_built_once(app: Flask, script_root: str) -> None:
    files = ["css/app.css", "vendor/htmx/2.0.11/htmx.min.js", "no-such-file.css"]
    with app.test_request_context("/", base_url=f"http://localhost{script_root}/"):
        for filename in files:
            assert static_url(filename) == url_for("static", filename=filename)
            assert static_url(filename) is static_url(filename)  # kept, not built again
        assert static_url("css/app.css").startswith(f"{script_root}/static/css/app.css?v=")


@pytest.mark.parametrize("debug", [False, True])
def test_static_url_follows_an_edited_file_only_in_development(
    app: Flask, debug: bool, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In production a file changes only with a release (a restart); in development the
    page must link the new version as soon as the file is saved."""
    monkeypatch.setattr(static_files, "STATIC_ROOT", tmp_path)  # not the checkout's files
    name = f"test-{uuid.uuid4().hex}.css"  # a name no earlier test has versioned
    path = tmp_path / name
    app.debug = debug
    path.write_text("a {}")
    with app.test_request_context("/"):
        before = static_url(name)
    path.write_text("a { color: red }")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    with app.test_request_context("/"):
        after = static_url(name)
    assert before.startswith(f"/static/{name}?v=")
    assert (after != before) is debug
