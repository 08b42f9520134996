"""Avatars drawn on the server from the username: no e-mail hash, no third-party request.

A circle in a colour picked from the name, with the name's first letter in white. The
colours are dark enough for white text (WCAG contrast at least 4.5:1) and light enough to
stand out from a dark page, so one image reads well in both colour schemes.
"""

from __future__ import annotations

import colorsys
import hashlib

from markupsafe import escape

# Hues all around the wheel; lightness and saturation fixed where white text stays readable.
LIGHTNESS = 0.38
SATURATION = 0.55


def avatar_colour(canonical_name: str) -> str:
    digest = hashlib.sha256(canonical_name.encode("utf-8")).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536
    red, green, blue = colorsys.hls_to_rgb(hue, LIGHTNESS, SATURATION)
    return f"#{round(red * 255):02x}{round(green * 255):02x}{round(blue * 255):02x}"


def avatar_svg(canonical_name: str) -> str:
    initial = escape(canonical_name[:1].upper() or "?")
    colour = avatar_colour(canonical_name)
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" width="64" height="64">'
        f'<circle cx="32" cy="32" r="32" fill="{colour}"/>'
        '<text x="32" y="32" dy=".35em" text-anchor="middle" fill="#fff" '
        'font-family="system-ui, sans-serif" font-size="30" font-weight="600">'
        f"{initial}</text></svg>"
    )
