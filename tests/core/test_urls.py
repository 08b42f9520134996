"""The fast user URLs are exactly what url_for would build."""

from __future__ import annotations

import pytest
from flask import Flask
from flask import url_for

from webapp.core.urls import user_url


@pytest.mark.parametrize("script_root", ["", "/feed-app"])
@pytest.mark.parametrize("name", ["alice", "Bob_2", "name with space", "ünï", "a/b", "%"])
def test_user_url_matches_url_for(app: Flask, script_root: str, name: str) -> None:
    with app.test_request_context("/", environ_base={"SCRIPT_NAME": script_root}):
        for endpoint, argument in [
            ("users.profile", "username"),
            ("users.popup", "username"),
            ("main.avatar", "name"),
        ]:
            assert user_url(endpoint, name, argument) == url_for(endpoint, **{argument: name})
