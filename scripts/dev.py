#!/usr/bin/env python3
"""The quick start in one file, standard library only, so it runs on a bare Python 3.11+.

    python3 scripts/dev.py serve   # set up, migrate, add demo data, serve on 127.0.0.1:5000
    python3 scripts/dev.py serve --port 5001   # or PORT=5001: when 5000 is taken
    python3 scripts/dev.py test    # set up, lint, run the whole test suite
    python3 scripts/dev.py test -k login -x   # any further arguments go to pytest
    python3 scripts/dev.py bench   # set up, run bench/perf.py (or: bench concurrency)

Both create `.venv/` from the hash-pinned lock files (`requirements.lock` for serving,
`requirements-dev.lock` for testing) and re-install only when a lock file changes.
`test` runs the suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
DEFAULT_PORT = 5000
# The PUBLIC_URL that .env.example (so every .env `serve` wrote) gives: the default port's.
DEFAULT_PUBLIC_URL = f"http://127.0.0.1:{DEFAULT_PORT}"


def say(message: str) -> None:
    print(f"==> {message}", flush=True)


def run(*command: str | Path, env: dict[str, str] | None = None) -> None:
    completed = subprocess.run([str(part) for part in command], cwd=ROOT, env=env)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def ensure_venv(lock_name: str) -> None:
    """Create .venv and install the lock file into it, unless it is already installed."""
    if sys.version_info < (3, 11):  # noqa: UP036 (this script may meet an older Python)
        sys.exit("Python 3.11 or newer is needed.")
    if not PYTHON.exists():
        say("creating .venv")
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    lock = ROOT / lock_name
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    stamp = VENV / f".installed-{lock_name}"
    if stamp.exists() and stamp.read_text() == digest:
        return
    say(f"installing pinned dependencies from {lock_name}")
    run(
        PYTHON,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--require-hashes",
        "--no-deps",
        "-r",
        lock,
    )
    stamp.write_text(digest)


def ensure_env_file() -> None:
    """A local .env with a fresh SECRET_KEY, so sessions survive restarts of the dev server."""
    env_file = ROOT / ".env"
    if env_file.exists():
        return
    say("writing .env with a new SECRET_KEY (from .env.example)")
    template = (ROOT / ".env.example").read_text()
    env_file.write_text(
        template.replace("SECRET_KEY=\n", f"SECRET_KEY={secrets.token_hex(32)}\n", 1)
    )


def flask(*args: str) -> None:
    run(BIN / "flask", "--app", "webapp", *args)


def serve(args: argparse.Namespace) -> None:
    if not port_is_free(args.port):
        # Say so before the set-up, not after it in Flask's words.
        sys.exit(
            f"Port {args.port} is taken (another program, or a `serve` already running). "
            f"Choose another: python3 scripts/dev.py serve --port {args.port + 1}"
        )
    ensure_venv("requirements.lock")
    ensure_env_file()
    say("migrating the database (alembic upgrade head)")
    run(BIN / "alembic", "upgrade", "head")
    seed_demo_data()
    url = f"http://127.0.0.1:{args.port}"
    env = os.environ.copy()
    if url != DEFAULT_PUBLIC_URL and public_url_is_default():
        # Links in e-mails (the dev outbox) must lead to this server, not to port 5000.
        env["PUBLIC_URL"] = url
    say(f"serving at {url} (Ctrl+C stops)")
    os.execve(BIN / "flask", [str(BIN / "flask"), *flask_run_args(args.port)], env)


def flask_run_args(port: int) -> list[str]:
    return ["--app", "webapp", "run", "--debug", "--host", "127.0.0.1", "--port", str(port)]


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        # As the server will: a port left in TIME_WAIT by the last run counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def public_url_is_default() -> bool:
    """Whether PUBLIC_URL is unset or the development default, in the environment and in .env
    (a value of your own, such as a tunnel's address, is kept)."""
    if "PUBLIC_URL" in os.environ:
        return os.environ["PUBLIC_URL"] in ("", DEFAULT_PUBLIC_URL)
    env_file = ROOT / ".env"
    lines = env_file.read_text().splitlines() if env_file.exists() else []
    for line in lines:
        name, _, value = line.partition("=")
        if name.strip() == "PUBLIC_URL":
            return value.strip().strip("\"'") in ("", DEFAULT_PUBLIC_URL)
    return True


def seed_demo_data() -> None:
    """Fill an empty database with demo users and comments (a no-op when it has users)."""
    say("adding demo data to an empty database (flask seed-demo --if-empty)")
    flask("seed-demo", "--if-empty")


def ensure_chromium() -> None:
    """The browser tests drive Debian's Chromium; install it where we are allowed to."""
    if Path(CHROMIUM).exists():
        return
    if shutil.which("apt-get") and os.geteuid() == 0:
        say("installing Chromium for the browser tests (apt-get install chromium)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        run("apt-get", "update", "-q", env=env)
        run("apt-get", "install", "-y", "-q", "--no-install-recommends", "chromium", env=env)
        return
    sys.exit(
        f"The browser tests need Chromium at {CHROMIUM}. Install it (Debian/Ubuntu: "
        "sudo apt-get install chromium) or point CHROMIUM at a Chromium binary."
    )


def test(args: argparse.Namespace) -> None:
    ensure_venv("requirements-dev.lock")
    ensure_chromium()
    say("ruff check")
    run(BIN / "ruff", "check", ".")
    say("ruff format --check")
    run(BIN / "ruff", "format", "--check", ".")
    sqlite_env = {k: v for k, v in os.environ.items() if k != "TEST_DATABASE_URL"}
    say("tests on SQLite")
    run(PYTHON, "-m", "pytest", *args.pytest_args, env=sqlite_env)
    postgres = os.environ.get("TEST_DATABASE_URL")
    if postgres:
        say(f"tests on PostgreSQL ({postgres})")
        run(PYTHON, "-m", "pytest", *args.pytest_args)
    else:
        say("TEST_DATABASE_URL is not set: PostgreSQL run skipped (CI sets it)")


def bench(args: argparse.Namespace) -> None:
    """Set up, then run a benchmark: bench.perf (default), bench.concurrency, bench.profile
    (where the time goes) or bench.explain (query plans at scale, PostgreSQL)."""
    ensure_venv("requirements-dev.lock")
    ensure_chromium()
    run(PYTHON, "-m", f"bench.{args.name}", *args.bench_args)


def port_number(value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise argparse.ArgumentTypeError(f"not a port number (1-65535): {value!r}")
    return int(value)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(required=True)
    serve_parser = commands.add_parser("serve", help="set up and run the app")
    serve_parser.add_argument(
        "--port",
        type=port_number,
        # Read when parsing, so PORT counts however the script is started; the flag wins.
        default=os.environ.get("PORT") or str(DEFAULT_PORT),
        help=f"the port to serve on (default: $PORT, else {DEFAULT_PORT})",
    )
    serve_parser.set_defaults(func=serve)
    # Everything after `test` goes to pytest untouched. A positional (nargs="*" or
    # REMAINDER) cannot take it: argparse refuses option-like words such as -k and -x there.
    # So `test` declares nothing, and parse_known_args leaves its arguments, in order, to us.
    test_parser = commands.add_parser(
        "test",
        help="set up and run lint and the tests",
        usage="%(prog)s [pytest arguments]",
        description="Lint, then pytest on SQLite (and on PostgreSQL when TEST_DATABASE_URL is "
        "set). Every argument goes to pytest, e.g. -k login -x.",
    )
    test_parser.set_defaults(func=test)
    bench_parser = commands.add_parser("bench", help="set up and run a benchmark")
    bench_parser.add_argument(
        "name", nargs="?", default="perf", choices=("perf", "concurrency", "profile", "explain")
    )
    bench_parser.add_argument("bench_args", nargs=argparse.REMAINDER, help="passed on")
    bench_parser.set_defaults(func=bench)
    argv = list(sys.argv[1:] if argv is None else argv)
    # `bench --scale 10m`: options without a benchmark's name are bench.perf's.
    if argv[:1] == ["bench"] and argv[1:2] and argv[1].startswith("-"):
        if argv[1] not in ("-h", "--help"):
            argv.insert(1, "perf")
    args, rest = parser.parse_known_args(argv)
    if args.func is test:
        args.pytest_args = rest
    elif rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return args


def main() -> None:
    args = parse_args(sys.argv[1:])
    args.func(args)


if __name__ == "__main__":
    main()
