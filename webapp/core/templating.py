"""Template filters: times, and the URLs of accounts and comments.

Helpers a page calls per comment are filters (`author | profile_url`), not globals
(`profile_url(author)`). Jinja calls a global through `Context.call`, which first asks the
function whether it wants the context, twice, by `hasattr` checks that fail (each one an
AttributeError raised and caught); a filter is resolved when the template compiles and then
called directly. Measured: 4.5 us for a global's output against 1.4 us for a filter's, and
a feed page made some 420 of these calls (560 with the macros' own).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from flask import Flask

from webapp.core.timeutil import utcnow
from webapp.core.urls import comment_url
from webapp.core.urls import static_url
from webapp.core.urls import user_url


class NamedAccount(Protocol):
    """What names an account in a link: the ORM user, the request's CurrentUser, a
    comment's author, a card's people (core knows none of them)."""

    @property
    def username(self) -> str: ...

    @property
    def username_canon(self) -> str: ...


UNITS = (
    (365 * 24 * 3600, "year"),
    (30 * 24 * 3600, "month"),
    (7 * 24 * 3600, "week"),
    (24 * 3600, "day"),
    (3600, "hour"),
    (60, "min"),
)


def relative_time(moment: datetime, now: datetime | None = None) -> str:
    """`just now`, `5 min ago`, `3 hours ago`, `2 weeks ago`: rendered on the server, so the
    page needs no script to show it."""
    seconds = int(((now or utcnow()) - moment).total_seconds())
    if seconds < 60:
        return "just now"
    for size, unit in UNITS:
        if seconds >= size:
            count = seconds // size
            plural = "s" if count > 1 and unit != "min" else ""
            return f"{count} {unit}{plural} ago"
    return "just now"  # unreachable: the last unit is a minute


def absolute_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def avatar_url(user: NamedAccount) -> str:
    return user_url(user.username_canon, "main.avatar", argument="name")


def profile_url(user: NamedAccount) -> str:
    return user_url(user.username, "users.profile")


def card_url(user: NamedAccount) -> str:
    return user_url(user.username, "users.popup")


def isoformat(moment: datetime) -> str:
    """For `<time datetime>`: a filter, where `moment.isoformat()` would be a call through
    Context.call."""
    return moment.isoformat()


def init_app(app: Flask) -> None:
    # Block tags leave no blank lines behind: fragments start with their element.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    for function in (
        relative_time,
        absolute_time,
        isoformat,
        avatar_url,
        profile_url,
        card_url,
        user_url,
        comment_url,
        static_url,
    ):
        app.add_template_filter(function)


def compile_templates(app: Flask) -> None:
    """Compile every template now, for a process that forks workers:
    each worker then starts with them compiled instead of compiling each on first use
    (about 7 ms for the card, 30 ms for the feed page, in every worker gunicorn starts or
    recycles)."""
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
