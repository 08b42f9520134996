"""Template filters and globals: relative times and avatar URLs."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from flask import Flask

from webapp.core.timeutil import utcnow
from webapp.core.urls import comment_url
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
    return user_url("main.avatar", user.username_canon, argument="name")


def profile_url(user: NamedAccount) -> str:
    return user_url("users.profile", user.username)


def card_url(user: NamedAccount) -> str:
    return user_url("users.popup", user.username)


def init_app(app: Flask) -> None:
    # Block tags leave no blank lines behind: fragments start with their element.
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    app.add_template_filter(relative_time, "relative_time")
    app.add_template_filter(absolute_time, "absolute_time")
    app.add_template_global(avatar_url, "avatar_url")
    app.add_template_global(profile_url, "profile_url")
    app.add_template_global(card_url, "card_url")
    app.add_template_global(user_url, "user_url")
    app.add_template_global(comment_url, "comment_url")


def compile_templates(app: Flask) -> None:
    """Compile every template now, for a process that forks workers:
    each worker then starts with them compiled instead of compiling each on first use
    (about 7 ms for the card, 30 ms for the feed page, in every worker gunicorn starts or
    recycles)."""
    for name in app.jinja_env.list_templates():
        app.jinja_env.get_template(name)
