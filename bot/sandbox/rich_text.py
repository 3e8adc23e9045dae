"""Telegram-HTML as a tree of plain data, so the page never hands bot text to innerHTML.

The bot formats with Telegram's HTML subset (`<b>`, `<i>`, links...). A browser would
happily run anything else that slipped into a message — a survey title an operator typed,
a region name from an edited catalog — so the page builds DOM nodes from this tree with
`createElement`/`createTextNode` instead. Only the tags Telegram itself renders survive,
under a handful of neutral names; links keep an `http(s)` target and nothing else.
Anything unexpected degrades to its text, never to markup.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Final
from urllib.parse import urlsplit

__all__ = ["Node", "rich_text", "safe_href"]

Node = str | dict[str, object]
"""A text run (``str``) or ``{"tag": NAME, "children": [...]}`` (links add ``"href"``)."""

_TAGS: Final = {
    "b": "b",
    "strong": "b",
    "i": "i",
    "em": "i",
    "u": "u",
    "ins": "u",
    "s": "s",
    "strike": "s",
    "del": "s",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-spoiler": "spoiler",
    "a": "a",
}
_SAFE_SCHEMES: Final = frozenset({"http", "https"})


def rich_text(text: str | None, parse_mode: str | None) -> list[Node]:
    """The displayable tree of a message text or caption as the bot sent it."""
    if not text:
        return []
    if not (isinstance(parse_mode, str) and parse_mode.lower() == "html"):
        return [text]
    parser = _TreeBuilder()
    parser.feed(text)
    parser.close()
    return parser.root


class _TreeBuilder(HTMLParser):
    """Builds the tree; an unknown tag becomes transparent (its text is kept)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: list[Node] = []
        # (tag as written, the children list text goes into); unknown tags push the
        # parent's list again so that their end tag pops the right entry.
        self._stack: list[tuple[str, list[Node]]] = [("", self.root)]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        children: list[Node] = self._stack[-1][1]
        name = _TAGS.get(tag)
        if tag == "span" and ("class", "tg-spoiler") in attrs:
            name = "spoiler"
        if name is not None:
            node: dict[str, object] = {"tag": name, "children": []}
            if name == "a":
                href = safe_href(dict(attrs).get("href"))
                if href is not None:
                    node["href"] = href
            children.append(node)
            children = node["children"]  # type: ignore[assignment]
        self._stack.append((tag, children))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._stack) - 1, 0, -1):
            if self._stack[depth][0] == tag:
                del self._stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        children = self._stack[-1][1]
        if children and isinstance(children[-1], str):
            children[-1] += data
        else:
            children.append(data)


def safe_href(href: object) -> str | None:
    """The link target if a browser may follow it from the page (http or https only)."""
    if not isinstance(href, str) or not href.strip():
        return None
    try:
        scheme = urlsplit(href.strip()).scheme.lower()
    except ValueError:
        return None
    return href.strip() if scheme in _SAFE_SCHEMES else None
