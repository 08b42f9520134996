"""What a person feels, measured in real Chromium: pointer-in to card-visible times, and the
bytes a feed page and a card cost."""

from __future__ import annotations

import statistics

from playwright.sync_api import sync_playwright

from tests.e2e.conftest import CHROMIUM
from tests.e2e.conftest import CHROMIUM_ARGS

# Timestamps taken inside the page: pointer over a name, then the card shown with content.
RECORDER = """
window.__hover = {start: null, end: null};
document.addEventListener('mouseover', (event) => {
  const link = event.target.closest && event.target.closest('[data-hovercard]');
  if (link && window.__hover.start === null) window.__hover.start = performance.now();
}, true);
new MutationObserver(() => {
  const card = document.querySelector('.tippy-box[data-state="visible"] .profile-card');
  if (card && window.__hover.start !== null && window.__hover.end === null) {
    window.__hover.end = performance.now();
  }
}).observe(document, {subtree: true, childList: true, attributes: true});
"""


def feed_assets(browser, storage_state: dict, base_url: str) -> list:  # noqa: ANN001
    """The JS and CSS a feed page loads with an empty cache: [url, bytes on the wire (body,
    as compressed), bytes uncompressed]."""
    context = browser.new_context(base_url=base_url, storage_state=storage_state)
    page = context.new_page()
    page.goto("/")
    page.wait_for_load_state("load")
    assets = page.evaluate(
        """performance.getEntriesByType('resource')
             .filter(e => /[.](js|css)([?]|$)/.test(e.name))
             .map(e => [e.name, e.encodedBodySize, e.decodedBodySize])"""
    )
    context.close()
    return assets


def measure(base_url: str, username: str, password: str, hovers: int = 20) -> dict:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        context = browser.new_context(base_url=base_url, viewport={"width": 1000, "height": 900})
        context.add_init_script(RECORDER)
        page = context.new_page()
        page.goto("/login")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/")
        assets = feed_assets(browser, context.storage_state(), base_url)
        # Enough "Load more" for `hovers` different people on the page.
        while (
            page.evaluate(
                "new Set([...document.querySelectorAll('#feed-items [data-hovercard]')]"
                ".map(a => a.textContent)).size"
            )
            < hovers
        ):
            page.get_by_role("button", name="Load more").click()
            page.wait_for_timeout(300)
        links = page.locator("#feed-items [data-hovercard]")
        seen: set[str] = set()
        times = []
        for index in range(links.count()):
            link = links.nth(index)
            name = link.text_content()
            if name in seen:
                continue
            seen.add(name)
            page.mouse.move(2, 2)
            if page.locator(".tippy-box").count():
                page.locator(".tippy-box").first.wait_for(state="detached", timeout=5000)
            page.evaluate("window.__hover = {start: null, end: null}")
            link.scroll_into_view_if_needed()
            link.hover()
            for _ in range(100):
                ended = page.evaluate("window.__hover.end !== null")
                if ended:
                    break
                page.wait_for_timeout(20)
            times.append(page.evaluate("window.__hover.end - window.__hover.start"))
            if len(times) == hovers:
                break
        browser.close()
    return {
        "hover_median_ms": statistics.median(times),
        "hover_worst_ms": max(times),
        "hovers": len(times),
        "assets": assets,
        "js_css_uncompressed": sum(a[2] for a in assets),
        "js_css_transferred": sum(a[1] for a in assets),
    }
