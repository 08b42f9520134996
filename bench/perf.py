"""Performance: the card and the feed against the floor of our own stack, at 100k or 10m comments.

    .venv/bin/python -m bench.perf                 # SQLite
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m bench.perf
    .venv/bin/python -m bench.perf --scale 10m     # 10 million comments (bench/dataset.py)

Builds the dataset of bench/dataset.py (`--scale`: 100k, the default, or 10m) on a fresh,
migrated database; serves the app and two floors (bench/floors.py) with gunicorn and the
repository's gunicorn.conf.py, 2 workers each; drives each endpoint with wrk from its own
process, in interleaved rounds (floors, card, floors, feed, ...) so that machine noise falls
on all alike; and prints requests per second, p50 and p99 latency, non-2xx responses and the
ratios to both floors from the same run. Then: resident memory per worker, what a person
feels in Chromium, and the speed of the demo-data command. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from collections import defaultdict
from pathlib import Path

from bench import browser
from bench import wrk
from bench.common import SETTINGS
from bench.common import fresh_database
from bench.common import migrate
from bench.dataset import PASSWORD
from bench.dataset import SCALES
from bench.dataset import build
from tests.servers import BIN
from tests.servers import Browserless
from tests.servers import Server
from tests.servers import clean_environment
from tests.servers import gunicorn
from webapp import create_app
from webapp.core.config import ROOT

HTMX = {"HX-Request": "true"}
TARGETS = {
    "card (ordinary user)": 0.8,
    "feed, first page": 0.4,
}


def session_cookie(server: Server, username: str) -> str:
    client = Browserless(server.url)
    assert client.login(username, PASSWORD) == 303
    client.get("/")  # the CSRF token is now in the session: later requests do not change it
    return "; ".join(f"{c.name}={c.value}" for c in client.cookies)


def check_ok(url: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200, (url, response.status)
        return len(response.read())


def resident_memory_mb(server: Server) -> list[float]:
    sizes = []
    for pid in server.pids_of_workers():
        status = Path(f"/proc/{pid}/status").read_text()
        sizes.append(int(re.search(r"VmRSS:\s+(\d+) kB", status).group(1)) / 1024)
    return sizes


def seeding_speed(workdir: Path) -> str:
    """`flask seed-demo` filling 100,000 comments into a fresh database."""
    workdir.mkdir(exist_ok=True)
    with fresh_database(workdir) as (url, _):
        migrate(create_app({"SQLALCHEMY_DATABASE_URI": url, **SETTINGS}))
        env = clean_environment(DATABASE_URL=url, **SETTINGS)
        output = subprocess.run(
            [
                str(BIN / "flask"),
                "--app",
                "webapp",
                "seed-demo",
                "--users",
                "1000",
                "--comments",
                "100000",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    return re.search(r"Added .*", output).group(0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--round-seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--scale", choices=SCALES, default="100k", help="dataset size")
    args = parser.parse_args()
    wrk.ensure_wrk()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "data").mkdir()
        with fresh_database(workdir / "data") as (url, database):
            app = create_app({"SQLALCHEMY_DATABASE_URI": url, **SETTINGS})
            migrate(app)
            data = build(app, SCALES[args.scale])
            print(f"dataset built ({database}): {data.seeding.summary()}")
            env = clean_environment(
                DATABASE_URL=url,
                **SETTINGS,
                FLASK_SESSION_COOKIE_SECURE="false",
                # Hovering this hard is the benchmark, not abuse: the limiter still runs.
                FLASK_RATELIMIT_CARDS_PER_USER="1000000000 per minute",
            )
            with (
                gunicorn(workdir, env, workers=2) as site,
                gunicorn(
                    workdir, env, workers=2, app="bench.floors:bare_app()", health_path="/"
                ) as bare,
                gunicorn(
                    workdir, env, workers=2, app="bench.floors:authenticated_floor()"
                ) as floor,
            ):
                deep_name = f"feed, {data.deep_item:,} deep (Load more)"
                # Logged in as one user, looking at others (an own card has no Follow form).
                cookie = session_cookie(site, data.viewer)
                auth = {"Cookie": cookie}
                endpoints = {
                    "card (ordinary user)": (f"{site.url}/user/{data.ordinary}/popup", HTMX),
                    "card (busy user)": (f"{site.url}/user/{data.busy}/popup", HTMX),
                    "feed, first page": (f"{site.url}/", {}),
                    "feed, page 2 (Load more)": (
                        f"{site.url}/?before={data.page_two_cursor}",
                        HTMX,
                    ),
                    deep_name: (
                        f"{site.url}/?before={data.deep_cursor}",
                        HTMX,
                    ),
                    "profile page": (f"{site.url}/user/{data.ordinary}", {}),
                }
                floors = {
                    "floor: bare Flask": (f"{bare.url}/", {}),
                    "floor: authenticated": (f"{floor.url}/floor", {}),
                }
                sizes = {}
                for name, (target, headers) in {**floors, **endpoints}.items():
                    sizes[name] = check_ok(target, {**headers, **auth})
                runs: dict[str, list[wrk.Run]] = defaultdict(list)
                for _ in range(args.rounds):
                    for name, (target, headers) in endpoints.items():
                        for floor_name, (floor_url, floor_headers) in floors.items():
                            runs[floor_name].append(
                                wrk.run(
                                    floor_url,
                                    args.round_seconds,
                                    args.connections,
                                    {**floor_headers, **auth},
                                )
                            )
                        runs[name].append(
                            wrk.run(
                                target, args.round_seconds, args.connections, {**headers, **auth}
                            )
                        )
                memory = resident_memory_mb(site)
                feel = None
                if not args.skip_browser:
                    feel = browser.measure(site.url, data.viewer, PASSWORD)
        seeded = seeding_speed(workdir / "seed")

    def summary(name: str) -> tuple[float, float, float, int]:
        items = runs[name]
        return (
            statistics.mean(r.requests_per_second for r in items),
            statistics.median(r.p50_ms for r in items),
            statistics.median(r.p99_ms for r in items),
            sum(r.non_2xx for r in items),
        )

    bare_rps = summary("floor: bare Flask")[0]
    floor_rps = summary("floor: authenticated")[0]
    lines = [
        f"Database: {database}, dataset {args.scale}. {args.rounds} interleaved rounds of "
        f"{args.round_seconds:g} s per endpoint, wrk with {args.connections} connections, "
        "gunicorn 2 workers each.",
        "",
        "| endpoint | req/s | p50 ms | p99 ms | non-2xx | × bare floor | × auth floor | bytes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in [*floors, *endpoints]:
        rps, p50, p99, bad = summary(name)
        lines.append(
            f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {bad} | "
            f"{rps / bare_rps:.2f} | {rps / floor_rps:.2f} | {sizes[name]:,} |"
        )
    card, busy = summary("card (ordinary user)"), summary("card (busy user)")
    page_two = summary("feed, page 2 (Load more)")
    deep = summary(deep_name)
    lines += [
        "",
        f"- card throughput / authenticated floor: {card[0] / floor_rps:.2f} (target ≥ 0.8)",
        f"- first feed page / authenticated floor: "
        f"{summary('feed, first page')[0] / floor_rps:.2f} (target ≥ 0.4)",
        f"- busy user's card p50 / ordinary card p50: {busy[1] / card[1]:.2f} (target ≤ 1.2)",
        f"- feed {data.deep_item:,} deep p50 / feed page 2 p50: "
        f"{deep[1] / page_two[1]:.2f} (target ≤ 1.2)",
        f"- non-2xx responses in all runs: {sum(summary(n)[3] for n in runs)} (target 0)",
        "- resident memory per app worker after the load: "
        + ", ".join(f"{m:.0f} MB" for m in memory),
        f"- demo data: {seeded}",
    ]
    if feel:
        lines += [
            f"- pointer-in to card visible, {feel['hovers']} hovers over different users: "
            f"median {feel['hover_median_ms']:.0f} ms, worst {feel['hover_worst_ms']:.0f} ms "
            "(intent delay 400 ms; goal ≤ 450 ms)",
            f"- JavaScript and CSS the feed page loads: {feel['js_css_uncompressed']:,} bytes "
            f"uncompressed, {feel['js_css_transferred']:,} bytes as transferred",
            f"- card fragment: {sizes['card (ordinary user)']:,} bytes",
        ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
