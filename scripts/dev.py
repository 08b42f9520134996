#!/usr/bin/env python3
"""The quick start in one file, standard library only, so it runs on a bare Python 3.11+.

    python3 scripts/dev.py serve   # set up, migrate, add demo data, serve on 127.0.0.1:5000
    python3 scripts/dev.py test    # set up, lint, run the whole test suite
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
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")


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


def serve(_: argparse.Namespace) -> None:
    ensure_venv("requirements.lock")
    ensure_env_file()
    say("migrating the database (alembic upgrade head)")
    run(BIN / "alembic", "upgrade", "head")
    seed_demo_data()
    say("serving at http://127.0.0.1:5000 (Ctrl+C stops)")
    os.execv(
        BIN / "flask",
        [
            str(BIN / "flask"),
            "--app",
            "webapp",
            "run",
            "--debug",
            "--host",
            "127.0.0.1",
            "--port",
            "5000",
        ],
    )


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
    """Set up, then run a benchmark: bench.perf (default) or bench.concurrency."""
    ensure_venv("requirements-dev.lock")
    ensure_chromium()
    run(PYTHON, "-m", f"bench.{args.name}", *args.bench_args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(required=True)
    commands.add_parser("serve", help="set up and run the app").set_defaults(func=serve)
    test_parser = commands.add_parser("test", help="set up and run lint and the tests")
    test_parser.add_argument("pytest_args", nargs="*", help="passed on to pytest")
    test_parser.set_defaults(func=test)
    bench_parser = commands.add_parser("bench", help="set up and run a benchmark")
    bench_parser.add_argument("name", nargs="?", default="perf", choices=("perf", "concurrency"))
    bench_parser.add_argument("bench_args", nargs=argparse.REMAINDER, help="passed on")
    bench_parser.set_defaults(func=bench)
    args = parser.parse_args()
    args.func(args)


if __name__ == "__main__":
    main()
