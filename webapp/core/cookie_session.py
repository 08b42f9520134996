"""Flask's signed-cookie session (it holds the CSRF token and flashed messages), decoded
only by the requests that use it, with its serializer made once per key.

Both are measured in docs/performance.md ("Where the time goes"): checking the cookie's
signature and decoding it was 7 % of a card under gunicorn, and the card, like most
fragments and the authenticated floor, never reads the session. Nothing about signing
changes: Flask's own code signs, checks and decodes, only later or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask import Request
from flask import Response
from flask.sessions import SecureCookieSession
from flask.sessions import SecureCookieSessionInterface
from flask.sessions import SessionMixin
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer


class LazySession(SecureCookieSession):
    """A session whose cookie is checked and decoded at its first use, not at the start of
    every request. A forged or expired cookie gives an empty session then, as in Flask."""

    def __init__(self, load: Callable[[], dict[str, Any]]) -> None:
        super().__init__()
        self.pending_load: Callable[[], dict[str, Any]] | None = load

    @property
    def loaded(self) -> bool:
        return self.pending_load is None

    def load(self) -> None:
        if self.pending_load is not None:
            load, self.pending_load = self.pending_load, None
            dict.update(self, load())  # not through `update`: loading is not a change


def _loading_first(name: str) -> Callable[..., Any]:
    method = getattr(SecureCookieSession, name)

    def loading_first(self: LazySession, *args: Any, **kwargs: Any) -> Any:
        self.load()
        return method(self, *args, **kwargs)

    loading_first.__name__ = name
    return loading_first


# Every way to read or change a dict, so none can see the session before it is loaded.
for _name in (
    "__getitem__", "__setitem__", "__delitem__", "__contains__", "__iter__", "__len__",
    "__eq__", "__ne__", "__repr__", "__or__", "__ior__", "get", "keys", "values", "items",
    "pop", "popitem", "setdefault", "update", "clear", "copy",
):  # fmt: skip
    setattr(LazySession, _name, _loading_first(_name))


class LazySessionInterface(SecureCookieSessionInterface):
    session_class = LazySession

    def __init__(self) -> None:
        self._reused: tuple[tuple, URLSafeTimedSerializer | None] | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """Flask makes a new serializer for every request with a session cookie (6 % of an
        authenticated request in-process). It holds only the keys and settings, so one per
        (key, fallback keys) serves every request; a changed SECRET_KEY makes a new one."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if self._reused is None or self._reused[0] != keys:
            self._reused = (keys, super().get_signing_serializer(app))
        return self._reused[1]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        serializer = self.get_signing_serializer(app)
        if serializer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return SecureCookieSession()
        max_age = int(app.permanent_session_lifetime.total_seconds())

        def load() -> dict[str, Any]:
            try:
                return serializer.loads(value, max_age=max_age)
            except BadSignature:
                return {}

        return LazySession(load)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        if isinstance(session, LazySession) and not session.loaded:
            # Never read, so never changed: the browser's cookie stays as it is. (No
            # session here is permanent, so there is no expiry to refresh either.)
            return
        super().save_session(app, session, response)


def init_app(app: Flask) -> None:
    app.session_interface = LazySessionInterface()
