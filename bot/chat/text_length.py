"""How long Telegram counts a message, for the checks before sending and in `surveys validate`."""

from __future__ import annotations

import html
import re

#: Telegram's limit on a message's text, counted after its entities are parsed.
MAX_TEXT_LENGTH = 4096
_TAG = re.compile(r"<[^>]*>")


def visible_length(text: str) -> int:
    """How long Telegram counts an HTML message: after its entities are parsed, so tags
    take no room and `&amp;` is one character; white space at either end is trimmed."""
    return len(html.unescape(_TAG.sub("", text)).strip())
