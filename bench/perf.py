"""Performance: the card, the feed, a thread and the new-comments check against the floor of
our own stack, at 100k or 10m comments.

    .venv/bin/python -m bench.perf                 # SQLite
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m bench.perf
    .venv/bin/python -m bench.perf --scale 10m     # 10 million comments (bench/dataset.py)
    .venv/bin/python -m bench.perf --scale both    # 100k, then 10m, and the p50s compared

Builds the dataset of bench/dataset.py on a fresh, migrated database; serves with gunicorn
and the repository's gunicorn.conf.py, 2 workers each: the app with its production
settings (rate limits counted in this process), the same app with the limits off, the same
app with the limits in Redis (when Redis answers at BENCH_REDIS_URL, default
127.0.0.1:6379), and two floors (bench/floors.py); drives each endpoint with wrk (8
connections) from its own process, in interleaved rounds (floors, card, floors, feed, ...)
so that machine noise falls on all alike; and prints requests per second, p50 and p99
latency, non-2xx responses and the ratios to both floors from the same run, against the
targets. Then: resident memory per worker, what a person feels in Chromium, and the speed
of the demo-data command. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import urllib.request
import uuid
from collections import defaultdict
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from bench import browser
from bench import wrk
from bench.common import SETTINGS
from bench.common import fresh_database
from bench.common import migrate
from bench.common import seeded_server_environment
from bench.dataset import PASSWORD
from bench.dataset import SCALES
from bench.dataset import Dataset
from tests.servers import BIN
from tests.servers import Browserless
from tests.servers import Server
from tests.servers import clean_environment
from tests.servers import gunicorn
from webapp import create_app
from webapp.core.config import ROOT

HTMX = {"HX-Request": "true"}
#: A viewer who follows 1,000 users looks at a user with 1,000 followers, 300 in common.
IN_COMMON_CARD = "card (1,000 follows, 300 in common)"
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
#: Ratios to the bare-Flask floor that the issue sets, from one run (issue 11).
BARE_TARGETS = {
    "card (ordinary user)": 0.4,
    "card, limits in Redis": 0.4,
    "floor: authenticated": 0.5,
    "feed, first page": 0.2,
}
#: Ratios to the authenticated floor that the issues set, from one run (issue 10).
AUTH_TARGETS = {"new-comments check (nothing new)": 0.8}
THREAD_PAGE = "thread page (60 replies)"
#: Endpoints compared between the 100k and the 10m dataset (p50 within 1.2x).
AT_SCALE = [
    "card (ordinary user)",
    "card (busy user)",
    "feed, first page",
    "feed, page 2 (Load more)",
    "deep",
    "profile page",
    THREAD_PAGE,
    "new-comments check (nothing new)",
]


def session_cookie(server: Server, username: str) -> str:
    client = Browserless(server.url)
    assert client.login(username, PASSWORD) == 303
    client.get("/")  # the CSRF token is now in the session: later requests do not change it
    return "; ".join(f"{c.name}={c.value}" for c in client.cookies)


def check_ok(url: str, headers: dict[str, str]) -> int:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status in (200, 204), (url, response.status)
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


def redis_answers() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


@dataclass
class ScaleRun:
    scale: str
    database: str
    data: Dataset
    runs: dict[str, list[wrk.Run]]
    sizes: dict[str, int]
    memory: list[float]
    feel: dict | None

    def summary(self, name: str) -> tuple[float, float, float, int]:
        items = self.runs[name]
        return (
            statistics.mean(r.requests_per_second for r in items),
            statistics.median(r.p50_ms for r in items),
            statistics.median(r.p99_ms for r in items),
            sum(r.non_2xx for r in items),
        )

    def named(self, short: str) -> str:
        """An endpoint's full name ("deep" is the deep page, whose name has its depth)."""
        return next(name for name in self.runs if short in name)


def measure(scale: str, args: argparse.Namespace, workdir: Path) -> ScaleRun:
    (workdir / "data").mkdir()
    with fresh_database(workdir / "data") as (url, database):
        env, data = seeded_server_environment(url, SCALES[scale])
        print(f"dataset built ({database}): {data.seeding.summary()}", flush=True)
        redis_env = {
            **env,
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "RATELIMIT_KEY_PREFIX": f"bench-{uuid.uuid4().hex[:8]}",
        }
        with ExitStack() as servers:

            def serve(environment: dict[str, str], **options: str) -> Server:
                return servers.enter_context(gunicorn(workdir, environment, workers=2, **options))

            site = serve(env)
            bare = serve(env, app="bench.floors:bare_app()", health_path="/")
            floor = serve(env, app="bench.floors:authenticated_floor()")
            unlimited = serve({**env, "FLASK_RATELIMIT_ENABLED": "false"})
            in_redis = serve(redis_env) if redis_answers() else None
            # Logged in as one user, looking at others (an own card has no Follow form).
            auth = {"Cookie": session_cookie(site, data.viewer)}
            # ...except for the long "Followed by" line, which has a viewer of its own.
            avid = {"Cookie": session_cookie(site, data.in_common_viewer)}
            card = f"/user/{data.ordinary}/popup"
            endpoints = {
                "card (ordinary user)": (f"{site.url}{card}", HTMX),
                "card, limits off": (f"{unlimited.url}{card}", HTMX),
                **({"card, limits in Redis": (f"{in_redis.url}{card}", HTMX)} if in_redis else {}),
                "card (busy user)": (f"{site.url}/user/{data.busy}/popup", HTMX),
                IN_COMMON_CARD: (f"{site.url}/user/{data.in_common_card}/popup", {**HTMX, **avid}),
                "feed, first page": (f"{site.url}/", {}),
                "feed, page 2 (Load more)": (f"{site.url}/?before={data.page_two_cursor}", HTMX),
                f"feed, {data.deep_item:,} deep (Load more)": (
                    f"{site.url}/?before={data.deep_cursor}",
                    HTMX,
                ),
                "profile page": (f"{site.url}/user/{data.ordinary}", {}),
                THREAD_PAGE: (f"{site.url}/c/{data.long_thread}", {}),
                # What every open feed tab asks every 20 s: nothing is newer (204).
                "new-comments check (nothing new)": (
                    f"{site.url}/feed/new?after={data.newest_cursor}",
                    HTMX,
                ),
            }
            floors = {
                "floor: bare Flask": (f"{bare.url}/", {}),
                "floor: authenticated": (f"{floor.url}/floor", {}),
            }
            sizes = {}
            for name, (target, headers) in {**floors, **endpoints}.items():
                sizes[name] = check_ok(target, {**auth, **headers})
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
                        wrk.run(target, args.round_seconds, args.connections, {**auth, **headers})
                    )
            memory = resident_memory_mb(site)
            feel = None
            if not args.skip_browser:
                feel = browser.measure(site.url, data.viewer, PASSWORD)
    return ScaleRun(scale, database, data, dict(runs), sizes, memory, feel)


def throughput_table(run: ScaleRun, args: argparse.Namespace) -> list[str]:
    bare_rps = run.summary("floor: bare Flask")[0]
    floor_rps = run.summary("floor: authenticated")[0]
    lines = [
        f"Database: {run.database}, dataset {run.scale}. {args.rounds} interleaved rounds of "
        f"{args.round_seconds:g} s per endpoint, wrk with {args.connections} connections, "
        "gunicorn 2 workers each.",
        "",
        "| endpoint | req/s | p50 ms | p99 ms | p99/p50 | non-2xx | × bare floor | × auth floor "
        "| bytes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in run.runs:
        rps, p50, p99, bad = run.summary(name)
        lines.append(
            f"| {name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {p99 / p50:.1f} | {bad} | "
            f"{rps / bare_rps:.2f} | {rps / floor_rps:.2f} | {run.sizes[name]:,} |"
        )
    lines.append("")
    for name, target in BARE_TARGETS.items():
        if name in run.runs:
            ratio = run.summary(name)[0] / bare_rps
            lines.append(f"- {name} / bare floor: {ratio:.2f} (target ≥ {target})")
    for name, target in AUTH_TARGETS.items():
        ratio = run.summary(name)[0] / floor_rps
        lines.append(f"- {name} / authenticated floor: {ratio:.2f} (target ≥ {target})")
    card, busy = run.summary("card (ordinary user)"), run.summary("card (busy user)")
    page_two, deep = run.summary("feed, page 2 (Load more)"), run.summary(run.named("deep"))
    for name in [n for n in run.runs if n.startswith("card")]:
        _, p50, p99, _ = run.summary(name)
        lines.append(f"- {name}: p99 / p50 = {p99 / p50:.1f} (target ≤ 3)")
    in_common = run.summary(IN_COMMON_CARD)
    lines += [
        f"- busy user's card p50 / ordinary card p50: {busy[1] / card[1]:.2f} (target ≤ 1.2)",
        f"- {IN_COMMON_CARD} p50 / ordinary card p50: {in_common[1] / card[1]:.2f} (target ≤ 1.5)",
        f"- feed {run.data.deep_item:,} deep p50 / feed page 2 p50: "
        f"{deep[1] / page_two[1]:.2f} (target ≤ 1.2)",
        f"- non-2xx responses in all runs: {sum(run.summary(n)[3] for n in run.runs)} (target 0)",
        "- resident memory per app worker after the load: "
        + ", ".join(f"{m:.0f} MB" for m in run.memory),
    ]
    if run.feel:
        feel = run.feel
        lines += [
            f"- pointer-in to card visible, {feel['hovers']} hovers over different users: "
            f"median {feel['hover_median_ms']:.0f} ms, worst {feel['hover_worst_ms']:.0f} ms "
            "(intent delay 400 ms; goal ≤ 450 ms)",
            f"- JavaScript and CSS the feed page loads: {feel['js_css_uncompressed']:,} bytes "
            f"uncompressed, {feel['js_css_transferred']:,} bytes as transferred",
            f"- card fragment: {run.sizes['card (ordinary user)']:,} bytes",
        ]
    return lines


def scale_table(small: ScaleRun, large: ScaleRun) -> list[str]:
    lines = [
        "",
        f"p50 at {large.scale} against {small.scale} ({large.database}; target ≤ 1.2 each):",
        "",
        f"| endpoint | p50 ms at {small.scale} | p50 ms at {large.scale} | ratio |",
        "|---|---:|---:|---:|",
    ]
    for short in AT_SCALE:
        name = large.named(short)
        before, after = small.summary(small.named(short))[1], large.summary(name)[1]
        lines.append(f"| {name} | {before:.2f} | {after:.2f} | {after / before:.2f} |")
    ratio = max(large.memory) / max(small.memory)
    lines += [
        "",
        f"- resident memory per worker: {max(small.memory):.0f} MB at {small.scale}, "
        f"{max(large.memory):.0f} MB at {large.scale}: {ratio:.2f} (target ≤ 1.2)",
    ]
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--round-seconds", type=float, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument(
        "--scale",
        choices=[*SCALES, "both"],
        default="100k",
        help="dataset size; `both` runs 100k, then 10m, and compares them",
    )
    parser.add_argument("--skip-seeding-speed", action="store_true")
    args = parser.parse_args()
    wrk.ensure_wrk()
    scales = list(SCALES) if args.scale == "both" else [args.scale]
    results = []
    for scale in scales:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(measure(scale, args, Path(tmp)))
        print("\n".join(throughput_table(results[-1], args)), end="\n\n", flush=True)
    if len(results) == 2:
        print("\n".join(scale_table(*results)))
    if not args.skip_seeding_speed:
        with tempfile.TemporaryDirectory() as tmp:
            print(f"- demo data: {seeding_speed(Path(tmp) / 'seed')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
