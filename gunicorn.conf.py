"""Gunicorn settings for production: `gunicorn "webapp:create_app()"` from the repository
root reads this file. Each setting can be overridden on the command line or by the
environment variables named below."""

from __future__ import annotations

import gc
import multiprocessing
import os

# Behind a reverse proxy on the same host; set BIND=0.0.0.0:8000 to listen more widely.
bind = os.environ.get("BIND", "127.0.0.1:8000")
# Sync workers: the app is CPU-light and database-bound. Two per core plus one is
# gunicorn's own rule of thumb; WEB_CONCURRENCY overrides it (as on most platforms).
workers = int(os.environ.get("WEB_CONCURRENCY") or multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
# A request that takes longer than this is stuck: the worker is replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
graceful_timeout = 20
# Keep-alive for the reverse proxy's pooled connections.
keepalive = 5
# Recycle workers now and then, so a slow leak anywhere never grows without bound. Every
# 50,000 requests: under load (a worker serves a card in under a millisecond) 5,000 meant a
# new worker every few seconds, and each recycle showed in the benchmark's p99.
max_requests = 50_000
max_requests_jitter = 5_000
# Logs to stdout/stderr, for the process manager (systemd, a container runtime) to collect.
accesslog = "-"
errorlog = "-"
# The proxy is trusted through the app's TRUSTED_PROXIES setting (Werkzeug's ProxyFix), so
# gunicorn itself need not parse X-Forwarded-* headers.
forwarded_allow_ips = "127.0.0.1"
# The app is built once, in the master, and each worker is a fork of it: a worker that
# max_requests recycles is serving again at once instead of importing and building the app
# (about a second of CPU, during which its share of requests waited: the benchmark's p99
# showed it). The forked workers must not use the master's database connections.
preload_app = True


def when_ready(server) -> None:  # noqa: ANN001 (gunicorn's hook signature)
    """In the master, once the preloaded app is built and before any worker is forked:
    what every worker would otherwise do again after each fork."""
    application = server.app.wsgi()
    if hasattr(application, "jinja_env"):
        from webapp.core.templating import compile_templates

        compile_templates(application)
    # The app's objects live as long as the master: moved out of the collector's reach, a
    # forked worker's collections never walk them. Walking them touched every page of the
    # heap the worker shares with the master, copying each (Python's gc.freeze
    # documentation; measured in docs/performance.md, "Recycled workers").
    gc.collect()
    gc.freeze()


def post_fork(server, worker) -> None:  # noqa: ANN001 (gunicorn's hook signature)
    application = server.app.wsgi()
    if "sqlalchemy" in getattr(application, "extensions", {}):
        from webapp.core.database import forget_inherited_connections

        forget_inherited_connections(application)
