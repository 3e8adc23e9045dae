"""Each chat as its user sees it, recorded by the fake Bot API server.

Tests and the sandbox page judge the bot by what a person would see — messages in order,
edits, deletions, keyboards, files — not by the requests that produced it.  Both sides of
a chat (the bot's API calls and the simulated user's actions) write here, so message ids
are shared as in Telegram, and whoever shows the chats live is told of every change.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.file_store import UploadedFile

__all__ = ["ChatMessage", "ChatRecord", "ChatState", "buttons"]

JsonDict = dict[str, Any]


@dataclass(slots=True)
class ChatMessage:
    """A message as the chat's user sees it.

    ``text`` and ``caption`` are what is displayed (HTML markup removed); ``raw_text`` is
    the text exactly as the bot sent it.  ``edited`` counts successful edits.
    """

    chat_id: int
    message_id: int
    date: int
    from_bot: bool = True
    text: str | None = None
    raw_text: str | None = None
    parse_mode: str | None = None
    caption: str | None = None
    reply_markup: JsonDict | None = None
    document: UploadedFile | None = None
    photo: UploadedFile | None = None
    file_id: str | None = None
    edited: int = 0
    edit_date: int | None = None
    deleted: bool = False


def buttons(message: ChatMessage | None) -> list[tuple[str, str]]:
    """(text, callback_data) of the message's inline buttons, row by row.

    Buttons without callback data (URL, web app...) are listed with an empty string, so the
    list always mirrors what the user sees.
    """
    if message is None or not message.reply_markup:
        return []
    rows = message.reply_markup.get("inline_keyboard") or []
    return [
        (str(button.get("text", "")), str(button.get("callback_data") or ""))
        for row in rows
        for button in row
    ]


@dataclass(slots=True)
class ChatState:
    """Everything the server knows about one chat; message ids are shared by both sides."""

    messages: list[ChatMessage] = field(default_factory=list)
    by_id: dict[int, ChatMessage] = field(default_factory=dict)
    last_message_id: int = 0
    version: int = 0  # bumped on every new/edited/deleted bot message
    action_version: int = 0  # ``version`` when the user last acted
    send_attempts: int = 0
    edit_attempts: int = 0
    blocked: bool = False
    menu_button: JsonDict | None = None


class ChatRecord:
    """The chats by id, and the watchers to tell of every visible change."""

    def __init__(self) -> None:
        self._chats: dict[int, ChatState] = {}
        self._watchers: list[Callable[[int], None]] = []

    def state(self, chat_id: int) -> ChatState:
        """The chat's state, created empty on first use."""
        state = self._chats.get(chat_id)
        if state is None:
            state = self._chats[chat_id] = ChatState()
        return state

    def find(self, chat_id: int) -> ChatState | None:
        """The chat's state if the chat exists."""
        return self._chats.get(chat_id)

    def messages(
        self, chat_id: int, *, include_deleted: bool = False, include_user: bool = False
    ) -> list[ChatMessage]:
        """The chat's messages in order: by default the bot's messages still visible."""
        state = self._chats.get(chat_id)
        if state is None:
            return []
        return [
            m
            for m in state.messages
            if (include_user or m.from_bot) and (include_deleted or not m.deleted)
        ]

    def last_message(self, chat_id: int) -> ChatMessage | None:
        """The bot's latest visible message in the chat."""
        state = self._chats.get(chat_id)
        if state is not None:
            for message in reversed(state.messages):
                if message.from_bot and not message.deleted:
                    return message
        return None

    def version(self, chat_id: int) -> int:
        """Counter of bot-side changes (send, edit, delete) in the chat."""
        state = self._chats.get(chat_id)
        return state.version if state is not None else 0

    def next_message_id(self, chat_id: int) -> int:
        state = self.state(chat_id)
        state.last_message_id += 1
        return state.last_message_id

    def add(self, message: ChatMessage) -> ChatMessage:
        """Append a message sent by either side."""
        state = self.state(message.chat_id)
        state.messages.append(message)
        state.by_id[message.message_id] = message
        if message.from_bot:
            state.version += 1
        self._changed(message.chat_id)
        return message

    def mark_edited(self, message: ChatMessage) -> None:
        """Count an edit the bot made to ``message``."""
        message.edited += 1
        message.edit_date = int(time.time())
        self._chats[message.chat_id].version += 1
        self._changed(message.chat_id)

    def mark_deleted(self, message: ChatMessage) -> None:
        message.deleted = True
        self._chats[message.chat_id].version += 1
        self._changed(message.chat_id)

    def watch(self, callback: Callable[[int], None]) -> Callable[[], None]:
        """Call ``callback(chat_id)`` after every change; returns the function that stops it."""
        self._watchers.append(callback)
        return lambda: self._watchers.remove(callback)

    def clear(self) -> None:
        """Forget every chat, telling the watchers of each one."""
        chats = list(self._chats)
        self._chats.clear()
        for chat_id in chats:
            self._changed(chat_id)

    def _changed(self, chat_id: int) -> None:
        for watcher in list(self._watchers):
            watcher(chat_id)
