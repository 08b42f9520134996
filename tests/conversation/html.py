"""Reading rendered HTML as a browser would, for tests: elements and their attributes."""

from __future__ import annotations

from html.parser import HTMLParser


class ElementCollector(HTMLParser):
    """Every element named `tag`: its attributes (as parsed, entities decoded) and, under
    "text", the text inside it."""

    def __init__(self, tag: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tag = tag
        self.found: list[dict[str, str]] = []
        self.open: list[dict[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == self.tag:
            element = {name: value or "" for name, value in attrs}
            element["text"] = ""
            self.found.append(element)
            self.open.append(element)

    def handle_endtag(self, tag: str) -> None:
        if tag == self.tag and self.open:
            self.open.pop()

    def handle_data(self, data: str) -> None:
        for element in self.open:
            element["text"] += data


def elements(html: str, tag: str) -> list[dict[str, str]]:
    collector = ElementCollector(tag)
    collector.feed(html)
    collector.close()
    return collector.found


def post_body(html: str) -> str:
    """The first comment's body, as markup: `<p class="post-body">...</p>`."""
    start = html.index('<p class="post-body">')
    return html[start : html.index("</p>", start) + len("</p>")]
