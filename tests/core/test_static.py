"""Static files: versioned URLs, a year of caching, gzip, and the security headers."""

from __future__ import annotations

import gzip
import re

from flask.testing import FlaskClient

from webapp.core.config import ROOT


def static_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


def test_pages_link_versioned_static_urls(client: FlaskClient) -> None:
    urls = static_urls(client.get("/login").get_data(as_text=True))
    assert len(urls) >= 6
    for url in urls:
        assert re.search(r"\?v=[0-9a-f]{12}$", url), url


def test_static_files_are_cached_for_a_year_with_validators(client: FlaskClient) -> None:
    url = next(u for u in static_urls(client.get("/login").get_data(as_text=True)) if "app.js" in u)
    with client.get(url) as response:
        assert response.status_code == 200
        assert "max-age=31536000" in response.headers["Cache-Control"]
        assert response.headers.get("ETag") or response.headers.get("Last-Modified")
        assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_text_files_are_served_gzipped_to_clients_that_accept_it(client: FlaskClient) -> None:
    path = "/static/vendor/htmx/2.0.11/htmx.min.js"
    with client.get(path, headers={"Accept-Encoding": "gzip"}) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in response.headers["Vary"]
        original = (ROOT / "static/vendor/htmx/2.0.11/htmx.min.js").read_bytes()
        assert gzip.decompress(response.data) == original
        assert len(response.data) < len(original) / 2
    with client.get(path) as plain:
        assert "Content-Encoding" not in plain.headers
        assert plain.data == original


def test_changing_a_file_changes_its_url(client: FlaskClient, tmp_path) -> None:
    from webapp.core.static_files import content_version

    first = tmp_path / "a.css"
    first.write_text("a {}")
    version_one = content_version(first, 1)
    first.write_text("a { color: red }")
    assert content_version(first, 2) != version_one
