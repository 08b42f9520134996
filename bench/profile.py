"""Where a request's time goes: py-spy samples a gunicorn worker under load, by part.

    .venv/bin/python -m bench.profile                 # SQLite
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m bench.profile

Builds the benchmark's dataset (bench/dataset.py, 100k by default) on a fresh, migrated
database and serves the app as bench.perf does (gunicorn, gunicorn.conf.py, production
settings, the card's limit counted), but with one worker. For the authenticated floor, a
card and the first feed page in turn, wrk keeps that worker busy while py-spy reads its
stack from outside the process (so the profile neither slows the app's Python code nor
depends on when it releases the GIL) a few hundred times a second. Each sample is filed
under the first part in PARTS with a frame on the stack: a statement run while the user is
loaded counts as loading the user, not as SQL. py-spy needs ptrace: root, or
`kernel.yama.ptrace_scope=0`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench import wrk
from bench.common import fresh_database
from bench.common import seeded_server_environment
from bench.dataset import SCALES
from bench.perf import HTMX
from bench.perf import session_cookie
from tests.servers import BIN
from tests.servers import gunicorn

#: part -> frames ("function (file" as py-spy prints them) that mark it, in precedence.
PARTS: dict[str, tuple[str, ...]] = {
    "loading the current user (its statement and row)": ("_load_user (webapp/core/",),
    # Flask-Limiter's own work, not the view its decorator wraps (that is on the stack too).
    "rate limits (Flask-Limiter, the card's counter)": (
        "count (webapp/core/throttling.py",
        "_check_request_limit (flask_limiter/",
        "__evaluate_limits (flask_limiter/",
        "__inject_headers (flask_limiter/",
        "__release_context (flask_limiter/",
    ),
    "Flask's session cookie (checked and decoded)": ("open_session (", "save_session ("),
    # The view's statements, and the database session's bookkeeping around them.
    "SQLAlchemy beyond loading the user": ("(sqlalchemy/", "(psycopg/", "(sqlite3/"),
    "template rendering": ("render_template (", "render_block (", "(jinja2/"),
    "forms (WTForms, CSRF token)": ("(wtforms/", "(flask_wtf/"),
    "after-request hooks (security headers, cookies)": ("process_response (",),
    "before-request hooks (CSRF, Referer, last seen)": ("preprocess_request (",),
    "ending the request (teardown)": ("do_teardown_", "pop (flask/ctx.py"),
    "the view's own code": ("dispatch_request (",),
    "Flask and Werkzeug around the view": ("wsgi_app (",),
    "gunicorn: access log": ("access (gunicorn/glogging.py",),
    "gunicorn: reading the request, writing the response": ("handle_request (gunicorn/",),
}
IDLE = "gunicorn: waiting for a connection"
SAMPLES_PER_SECOND = 400


def classify(stack: str) -> str:
    for part, markers in PARTS.items():
        if any(marker in stack for marker in markers):
            return part
    return IDLE


def profile_endpoint(url: str, headers: dict[str, str], pid: int, seconds: float) -> Counter:
    """Samples of the worker `pid` while wrk keeps it busy with `url`, by part."""

    def keep_busy() -> None:
        try:
            wrk.run(url, seconds + 2, 4, headers)
        except (KeyError, AttributeError):
            pass  # only the load matters here, not what wrk reports of it

    load = threading.Thread(target=keep_busy)
    load.start()
    time.sleep(1)  # wrk is up and the worker busy
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as raw:
        subprocess.run(
            [
                str(BIN / "py-spy"),
                "record",
                "--pid",
                str(pid),
                "--duration",
                str(round(seconds)),
                "--rate",
                str(SAMPLES_PER_SECOND),
                "--format",
                "raw",
                "--output",
                raw.name,
            ],
            check=True,
            capture_output=True,
        )
        lines = raw.read().splitlines()
    load.join()
    parts: Counter = Counter()
    for line in lines:
        stack, _, count = line.rpartition(" ")
        parts[classify(stack)] += int(count)
    return parts


def report(name: str, parts: Counter) -> str:
    total = sum(parts.values())
    busy = total - parts[IDLE]
    lines = [f"{name} ({total:,} samples; shares of the worker's busy time)", ""]
    lines += ["| part | share |", "|---|---:|"]
    for part in PARTS:
        if parts[part]:
            lines.append(f"| {part} | {parts[part] / busy:.0%} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--scale", choices=SCALES, default="100k")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "data").mkdir()
        with fresh_database(workdir / "data") as (url, database):
            env, data = seeded_server_environment(url, SCALES[args.scale])
            floor_app = "bench.floors:authenticated_floor()"
            with (
                gunicorn(workdir, env, workers=1) as site,
                gunicorn(workdir, env, workers=1, app=floor_app) as floor,
            ):
                auth = {"Cookie": session_cookie(site, data.viewer)}
                targets = {
                    "authenticated floor": (floor, "/floor", auth),
                    "card (ordinary user)": (
                        site,
                        f"/user/{data.ordinary}/popup",
                        {**auth, **HTMX},
                    ),
                    "feed, first page": (site, "/", auth),
                }
                print(f"{database}, dataset {args.scale}, gunicorn with 1 worker\n")
                for name, (server, path, headers) in targets.items():
                    pid = server.pids_of_workers()[0]
                    parts = profile_endpoint(server.url + path, headers, pid, args.seconds)
                    print(report(name, parts), end="\n\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
