"""A short, human description of a browser from its User-Agent, for the sessions list.

Deliberately coarse ("Firefox on Windows"): enough for a person to recognise their own
devices, nothing that fingerprints them, and no dependency on a User-Agent database.
"""

from __future__ import annotations

from webapp.accounts.models import DEVICE_MAX_LENGTH

# Checked in order: Edge and Opera also say "Chrome", Chrome also says "Safari".
BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("HeadlessChrome/", "Chromium"),
    ("Chromium/", "Chromium"),
    ("Chrome/", "Chrome"),
    ("CriOS/", "Chrome"),
    ("Safari/", "Safari"),
    ("curl/", "curl"),
    ("python-", "Python"),
)
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("CrOS", "ChromeOS"),
    ("Windows", "Windows"),
    ("Mac OS X", "macOS"),
    ("Macintosh", "macOS"),
    ("Linux", "Linux"),
)


def describe_device(user_agent: str | None) -> str:
    """`Chromium on Linux`, `Safari on iOS`, `Firefox`, or `Unknown browser`."""
    agent = user_agent or ""
    browser = next((name for marker, name in BROWSERS if marker in agent), "Unknown browser")
    system = next((name for marker, name in SYSTEMS if marker in agent), None)
    description = f"{browser} on {system}" if system else browser
    return description[:DEVICE_MAX_LENGTH]
