"""Static files, served by WhiteNoise in front of Flask.

- Versioned URLs: url_for("static", ...) adds `?v=<content hash>`, so a file can be cached
  for a year and a changed file is a new URL.
- Compressed: a gzip copy of every text file sits next to it (made here, at start-up, when
  missing or stale) and WhiteNoise serves it to clients that accept gzip.
- The security headers of every other response (security.py) are added here too.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any
from wsgiref.headers import Headers

from flask import Flask
from flask import current_app
from whitenoise import WhiteNoise

from webapp.core.config import ROOT
from webapp.core.security import EVERY_RESPONSE_HEADERS

STATIC_ROOT = ROOT / "static"
ONE_YEAR = 365 * 24 * 3600
COMPRESSIBLE = frozenset({".css", ".js", ".svg", ".txt", ".map", ".md"})


def init_app(app: Flask) -> None:
    compress_tree(STATIC_ROOT, app)
    app.wsgi_app = WhiteNoise(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(STATIC_ROOT),
        prefix=app.static_url_path.strip("/") + "/",
        max_age=ONE_YEAR,
        allow_all_origins=False,
        autorefresh=app.debug,
        add_headers_function=add_security_headers,
    )
    app.url_defaults(add_version)


def add_security_headers(headers: Headers, path: str, url: str) -> None:
    for name, value in EVERY_RESPONSE_HEADERS.items():
        headers[name] = value


def add_version(endpoint: str, values: dict[str, Any]) -> None:
    if endpoint == "static" and "filename" in values and "v" not in values:
        version = file_version(values["filename"], autorefresh=current_app.debug)
        if version:
            values["v"] = version


def file_version(filename: str, autorefresh: bool) -> str | None:
    """The content hash for a static file's URL. Outside development files change only
    with a new release (a restart), so the hash is remembered by name."""
    if not autorefresh and filename in _versions:
        return _versions[filename]
    path = STATIC_ROOT / filename
    try:
        version = content_version(path, path.stat().st_mtime_ns)
    except OSError:
        version = None  # not a file of ours: url_for still builds it, and it answers 404
    _versions[filename] = version
    return version


_versions: dict[str, str | None] = {}


@lru_cache(maxsize=512)
def content_version(path: Path, mtime_ns: int) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def compress_tree(root: Path, app: Flask) -> None:
    """gzip each text file whose .gz copy is missing or older. Several workers may start at
    once: each copy is written under a temporary name and renamed into place, so no worker
    ever sees half a file."""
    for path in root.rglob("*"):
        if path.suffix not in COMPRESSIBLE or not path.is_file():
            continue
        target = path.with_name(path.name + ".gz")
        try:
            if target.exists() and target.stat().st_mtime_ns >= path.stat().st_mtime_ns:
                continue
            data = gzip.compress(path.read_bytes(), compresslevel=9, mtime=0)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".gz-")
            with os.fdopen(handle, "wb") as output:
                output.write(data)
            os.replace(temporary, target)
        except OSError as error:  # a read-only deployment: serve uncompressed
            app.logger.warning("Could not write %s: %s", target, error)
            return
