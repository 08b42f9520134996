"""Running behind reverse proxies: the real client address, scheme and host.

Only as many X-Forwarded-* hops as TRUSTED_PROXIES says are believed: with none configured
the headers are ignored, so a client cannot pick its own address to dodge rate limits.
"""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def init_app(app: Flask) -> None:
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
