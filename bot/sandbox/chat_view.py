"""A chat as the page draws it: the stand-in's messages turned into plain JSON.

Kept apart from the HTTP layer so that what a person sees — which buttons are live, what a
file is called, whether a message was edited, what time it says — is decided in one place
and tested without a browser.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from bot.sandbox.fake_telegram import ChatMessage, FakeTelegram, UploadedFile
from bot.sandbox.rich_text import rich_text, safe_href

__all__ = ["chat_view", "file_url", "message_view", "preview"]

JsonDict = dict[str, Any]


def file_url(chat_id: int, message_id: int) -> str:
    """Where the page fetches a message's document or photo (see the server's file route)."""
    return f"/api/chats/{chat_id}/files/{message_id}"


def message_view(message: ChatMessage, zone: tzinfo = UTC) -> JsonDict:
    """One message; its time is read in ``zone`` on the 24-hour clock.

    The time is written here rather than by the browser so that it agrees with the bot's
    own texts, which give times in the bot's TIMEZONE: a browser would use its machine's
    zone and locale, and show `02:38 AM` beside a message that says `05:38 MSK`.
    """
    view: JsonDict = {
        "id": message.message_id,
        "from_bot": message.from_bot,
        "time": datetime.fromtimestamp(message.date, zone).strftime("%H:%M"),
        "edited": message.edited > 0,
        "text": rich_text(message.raw_text, message.parse_mode),
        "caption": rich_text(message.caption, None),
        "keyboard": _inline_keyboard(message.reply_markup),
    }
    if message.document is not None:
        view["document"] = _file_json(message, message.document)
    if message.photo is not None:
        view["photo"] = _file_json(message, message.photo)
    return view


def chat_view(server: FakeTelegram, chat_id: int, zone: tzinfo = UTC) -> JsonDict:
    """Both sides of the conversation, plus the reply keyboard the bot left on screen.

    The page's server passes the bot's TIMEZONE as ``zone``; UTC is only a neutral default.
    """
    messages = server.chat(chat_id, include_user=True)
    return {
        "id": chat_id,
        "messages": [message_view(m, zone) for m in messages],
        "reply_keyboard": _reply_keyboard(messages),
    }


def preview(server: FakeTelegram, chat_id: int) -> JsonDict:
    """What the personas list shows for a chat: the bot's message count and latest line.

    A file without a caption is shown by its name, not by an icon alone: an emoji is an
    empty box on a machine without an emoji font.
    """
    bot_messages = server.chat(chat_id)
    everything = server.chat(chat_id, include_user=True)
    latest = everything[-1] if everything else None
    line = ""
    if latest is not None:
        line = latest.text or latest.caption or ""
        upload = latest.document or latest.photo
        if not line and upload is not None:
            line = f"{'📄' if upload is latest.document else '🖼'} {upload.filename}"
    return {"bot_messages": len(bot_messages), "preview": line[:120]}


def _file_json(message: ChatMessage, upload: UploadedFile) -> JsonDict:
    return {
        "name": upload.filename,
        "size": len(upload.content),
        "type": upload.content_type,
        "url": file_url(message.chat_id, message.message_id),
    }


def _inline_keyboard(markup: JsonDict | None) -> list[list[JsonDict]]:
    """Rows of buttons; a button the page cannot act on is shown disabled (no data, no url).

    The stand-in echoes inline keyboards only, so a message whose keyboard was removed by
    an edit simply has no rows any more.
    """
    if not markup or "inline_keyboard" not in markup:
        return []
    rows: list[list[JsonDict]] = []
    for row in markup["inline_keyboard"]:
        cells: list[JsonDict] = []
        for button in row:
            cell: JsonDict = {"text": str(button.get("text", ""))}
            if isinstance(button.get("callback_data"), str):
                cell["data"] = button["callback_data"]
            elif (href := safe_href(button.get("url"))) is not None:
                cell["url"] = href
            cells.append(cell)
        rows.append(cells)
    return rows


def _reply_keyboard(messages: list[ChatMessage]) -> list[list[str]] | None:
    """The custom keyboard in force: set by the latest bot message that set or removed one."""
    for message in reversed(messages):
        markup = message.reply_markup if message.from_bot else None
        if not markup:
            continue
        if "keyboard" in markup:
            return [
                [str(b.get("text", "")) if isinstance(b, dict) else str(b) for b in row]
                for row in markup["keyboard"]
            ]
        if "remove_keyboard" in markup:
            return None
    return None
