"""What Telegram accepts as a message's text, caption and keyboard, and what it displays.

The bot's texts and keyboards are built at run time from survey files and translations,
so a typo in HTML, a text past 4096 characters or callback data past 64 bytes only shows
up when Telegram refuses the message.  These checks refuse the same things with the same
400s, and strip the markup the way the user's client shows the text.
"""

from __future__ import annotations

import html
import re
from typing import Any, Final

from bot.sandbox.api_errors import BAD_BUTTON, BAD_MARKUP, ApiError, bad

__all__ = ["MAX_CAPTION_LENGTH", "MAX_TEXT_LENGTH", "message_text", "render", "validate_markup"]

JsonDict = dict[str, Any]

MAX_TEXT_LENGTH: Final = 4096
MAX_CAPTION_LENGTH: Final = 1024
MAX_CALLBACK_DATA_BYTES: Final = 64

_HTML_TAGS: Final = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "tg-emoji",
        "tg-time",
        "code",
        "pre",
        "blockquote",
    }
)
_BUTTON_ACTIONS: Final = frozenset(
    {
        "callback_data",
        "url",
        "web_app",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "copy_text",
        "callback_game",
        "pay",
    }
)
_TAG_RE: Final = re.compile(r"<(/?)([^\s<>/]*)[^<>]*>|<")


def validate_markup(markup: Any, *, inline_only: bool = False) -> JsonDict | None:
    """Check a reply_markup the way Telegram rejects broken keyboards."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, BAD_MARKUP)
    if "inline_keyboard" not in markup:
        if inline_only:
            raise bad("inline keyboard expected")
        if not {"keyboard", "remove_keyboard", "force_reply"} & markup.keys():
            raise ApiError(400, BAD_MARKUP)
        return markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array')
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise ApiError(400, BAD_BUTTON)
            if not _BUTTON_ACTIONS & button.keys():
                raise ApiError(400, BAD_BUTTON)
            data = button.get("callback_data")
            if data is not None and (
                not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise bad("BUTTON_DATA_INVALID")
    return markup


def message_text(params: dict[str, Any]) -> tuple[str, Any, str]:
    """(text as sent, parse_mode, text as shown), refused as Telegram refuses them."""
    raw_text = params.get("text")
    if not isinstance(raw_text, str) or not raw_text.strip():
        raise bad("message text is empty")
    parse_mode = params.get("parse_mode")
    text = render(raw_text, parse_mode)
    if not text:
        raise bad("message text is empty")
    if len(text) > MAX_TEXT_LENGTH:
        raise bad("message is too long")
    return raw_text, parse_mode, text


def render(text: str, parse_mode: Any) -> str:
    """What the user sees: HTML validated and stripped like Telegram, others verbatim."""
    if isinstance(parse_mode, str) and parse_mode.lower() == "html":
        text = _strip_html(text)
    return text.strip()


def _strip_html(text: str) -> str:
    """Remove supported tags; reject what Telegram's HTML parser rejects (400)."""
    out: list[str] = []
    stack: list[str] = []
    position = 0
    for match in _TAG_RE.finditer(text):
        out.append(text[position : match.start()])
        position = match.end()
        offset = len(text[: match.start()].encode())
        if match.group(0) == "<":
            raise bad(f"can't parse entities: Unclosed start tag at byte offset {offset}")
        name = match.group(2).lower()
        if name not in _HTML_TAGS:
            raise bad(
                f'can\'t parse entities: Unsupported start tag "{name}" at byte offset {offset}'
            )
        if match.group(1):
            if not stack or stack[-1] != name:
                expected = f'"</{stack[-1]}>"' if stack else "no end tag"
                raise bad(
                    f"can't parse entities: Unmatched end tag at byte offset {offset}, "
                    f'expected {expected}, found "</{name}>"'
                )
            stack.pop()
        else:
            stack.append(name)
    if stack:
        raise bad(
            f"can't parse entities: Can't find end tag corresponding to start tag \"{stack[-1]}\""
        )
    out.append(text[position:])
    return html.unescape("".join(out))
