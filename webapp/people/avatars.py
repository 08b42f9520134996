"""Avatars drawn on the server from the username: no e-mail hash, no third-party request.

A circle in a colour picked from the name, with the name's first letter in white. The
colours are dark enough for white text (WCAG contrast at least 4.5:1) and light enough to
stand out from a dark page, so one image reads well in both colour schemes.
"""

from __future__ import annotations

import colorsys
import hashlib

from markupsafe import escape

SATURATION = 0.55
START_LIGHTNESS = 0.45
# WCAG AA for the white initial, with a little margin for rounding.
MIN_CONTRAST_WITH_WHITE = 4.6


def luminance(rgb: tuple[float, float, float]) -> float:
    """WCAG relative luminance of an sRGB colour with channels in 0..1."""
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def avatar_colour(canonical_name: str) -> str:
    """A hue from the name, darkened just enough for white text: yellows and greens are
    bright at a lightness where blues are already dark, so one lightness cannot fit all."""
    digest = hashlib.sha256(canonical_name.encode("utf-8")).digest()
    hue = int.from_bytes(digest[:2], "big") / 65536
    lightness = START_LIGHTNESS
    rgb = colorsys.hls_to_rgb(hue, lightness, SATURATION)
    while 1.05 / (luminance(rgb) + 0.05) < MIN_CONTRAST_WITH_WHITE:
        lightness -= 0.01
        rgb = colorsys.hls_to_rgb(hue, lightness, SATURATION)
    red, green, blue = (round(channel * 255) for channel in rgb)
    return f"#{red:02x}{green:02x}{blue:02x}"


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
