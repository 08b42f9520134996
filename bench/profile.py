"""Where a request's time goes: a sampling profiler over in-process requests, by part.

    .venv/bin/python -m bench.profile                 # SQLite
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m bench.profile

Builds the benchmark's dataset (bench/dataset.py, 100k by default) on a fresh, migrated
database, logs in as its viewer, then calls the WSGI app directly (no HTTP and no test
client, so the harness costs next to nothing) for the bare floor, the authenticated floor,
a card and the first feed page, with the production settings and the card limit counting.

For each it prints the time per request (without the profiler) and where that time goes.
A thread looks at the serving thread's stack every half millisecond (sampling, as
py-spy and pyinstrument do, so the profile barely slows what it measures) and files each
sample under the first part in PARTS that has a function on the stack: a statement run
while the user is loaded counts as loading the user, not as SQL.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from flask import Flask
from werkzeug.test import EnvironBuilder

from bench.common import SETTINGS
from bench.common import fresh_database
from bench.common import migrate
from bench.dataset import SCALES
from bench.dataset import build

#: part -> functions (path ends with, name) whose presence on the stack marks it, in order
#: of precedence.
PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "loading the current user (statement, row, Flask-Login)": (
        ("webapp/core/extensions.py", "_load_user"),
    ),
    "Flask-Limiter (its per-request checks and the card's counter)": (
        ("flask_limiter/_extension.py", "_check_request_limit"),
        ("flask_limiter/_extension.py", "__evaluate_limits"),
        ("flask_limiter/_extension.py", "__inner"),
        ("flask_limiter/_extension.py", "_inject_headers"),
    ),
    "the view's SQL (card or feed statements)": (
        ("sqlalchemy/orm/session.py", "execute"),
        ("sqlalchemy/engine/base.py", "execute"),
        ("sqlalchemy/orm/session.py", "scalars"),
    ),
    "template rendering": (
        ("flask/templating.py", "render_template"),
        ("jinja2_fragments/flask.py", "render_block"),
    ),
    "after-request hooks (security headers, cookies, session save)": (
        ("flask/app.py", "process_response"),
    ),
    "ending the request (database session closed, teardown)": (("flask/ctx.py", "pop"),),
    "other before-request hooks (CSRF, Referer, last seen)": (
        ("flask/app.py", "preprocess_request"),
    ),
    "the view's own code": (("flask/app.py", "dispatch_request"),),
    "Flask and Werkzeug request handling (the rest)": (("flask/app.py", "wsgi_app"),),
}
REST = "outside the app (harness)"
SAMPLE_SECONDS = 0.0005


def part_of(frame: FrameType | None) -> str:
    names = set()
    while frame is not None:
        code = frame.f_code
        names.add((code.co_filename.replace("\\", "/"), code.co_name))
        frame = frame.f_back
    for part, markers in PARTS.items():
        for path_end, name in markers:
            if any(n == name and f.endswith(path_end) for f, n in names):
                return part
    return REST


def sampled(call: Callable[[], bytes], requests: int) -> Counter[str]:
    target = threading.get_ident()
    samples: Counter[str] = Counter()
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            frame = sys._current_frames().get(target)
            samples[part_of(frame)] += 1
            time.sleep(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(SAMPLE_SECONDS / 2)  # let the sampler in on time
    sampler.start()
    try:
        for _ in range(requests):
            call()
    finally:
        done.set()
        sampler.join()
        sys.setswitchinterval(previous)
    return samples


def wsgi_caller(app: Flask, path: str, headers: dict[str, str]) -> Callable[[], bytes]:
    environ = EnvironBuilder(
        path=path, headers=headers, base_url="http://127.0.0.1:8000"
    ).get_environ()

    def start_response(status: str, _headers: Any, _exc: Any = None) -> None:
        assert status.startswith("200"), (path, status)

    def call() -> bytes:
        result = app(dict(environ), start_response)
        try:
            return b"".join(result)
        finally:
            getattr(result, "close", lambda: None)()

    return call


def login_cookies(app: Flask, username: str) -> str:
    """The Cookie header of a browser logged in as `username` that has loaded the feed once
    (its Flask session then holds the CSRF token, as a real reader's does)."""
    from flask import g
    from sqlalchemy import select

    from webapp.accounts.sessions import AUTH_COOKIE
    from webapp.accounts.sessions import start_session
    from webapp.core.extensions import db
    from webapp.models import User

    with app.test_request_context("/login", method="POST"):
        user = db.session.scalars(select(User).where(User.username == username)).one()
        start_session(user, remembered=True)
        db.session.commit()
        token = g.auth_cookie.token
    client = app.test_client()
    client.set_cookie(AUTH_COOKIE, token)
    assert client.get("/").status_code == 200
    cookies = [client.get_cookie(name) for name in (AUTH_COOKIE, "session")]
    return "; ".join(f"{c.key}={c.value}" for c in cookies if c is not None)


def per_request_seconds(call: Callable[[], bytes], requests: int) -> tuple[float, float]:
    """(wall, CPU) seconds per request. The CPU time of this process is what a shared,
    noisy machine disturbs least; the wall time adds the waits on the database server."""
    started, cpu_started = time.perf_counter(), time.process_time()
    for _ in range(requests):
        call()
    return (
        (time.perf_counter() - started) / requests,
        (time.process_time() - cpu_started) / requests,
    )


def report(name: str, seconds: float, samples: Counter[str]) -> str:
    total = sum(samples.values())
    lines = [f"{name}: {seconds * 1e6:,.0f} µs per request ({total:,} samples)", ""]
    lines += ["| part | share | µs |", "|---|---:|---:|"]
    for part in [*PARTS, REST]:
        if samples[part]:
            share = samples[part] / total
            lines.append(f"| {part} | {share:.0%} | {share * seconds * 1e6:,.0f} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--scale", choices=SCALES, default="100k")
    parser.add_argument("--only", nargs="*", help="names of targets to run (a word of each)")
    parser.add_argument("--no-profile", action="store_true", help="time only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, fresh_database(Path(tmp)) as (url, database):
        # The app reads its settings from the environment, as under gunicorn in bench.perf.
        os.environ.update(DATABASE_URL=url, **SETTINGS)
        # Hovering this hard is the measurement, not abuse: the limiter still counts.
        os.environ["FLASK_RATELIMIT_CARDS_PER_USER"] = "1000000000 per minute"
        from bench.floors import authenticated_floor
        from bench.floors import bare_app

        app = authenticated_floor()
        migrate(app)
        data = build(app, SCALES[args.scale])
        auth = {"Cookie": login_cookies(app, data.viewer)}
        targets = {
            "bare Flask floor": wsgi_caller(bare_app(), "/", {}),
            "authenticated floor": wsgi_caller(app, "/floor", auth),
            "card (ordinary user)": wsgi_caller(
                app, f"/user/{data.ordinary}/popup", {**auth, "HX-Request": "true"}
            ),
            "feed, first page": wsgi_caller(app, "/", auth),
        }
        print(f"{database}, dataset {args.scale}, {args.requests:,} requests each\n")
        for name, call in targets.items():
            if args.only and not any(word in name for word in args.only):
                continue
            per_request_seconds(call, 300)  # warm: caches, prepared statements, pool
            seconds, cpu_seconds = per_request_seconds(call, args.requests)
            if args.no_profile:
                print(
                    f"{name}: {seconds * 1e6:,.0f} µs per request, {cpu_seconds * 1e6:,.0f} µs CPU"
                )
                continue
            print(report(name, seconds, sampled(call, args.requests)), end="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
