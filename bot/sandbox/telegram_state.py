"""What the fake Telegram knows, shared by the bot's side and the users' side.

The Bot API methods and the simulated users change the same chats, updates, files and
callback queries, and both must describe a chat or a message exactly as Telegram would:
the message a user presses a button under arrives in the callback query in the same shape
``sendMessage`` returned it.  Keeping that state and its rendering in one object lets
either side work without reaching into the other.
"""

from __future__ import annotations

import itertools
from typing import Any, Protocol

from bot.sandbox.chat_record import ChatMessage, ChatRecord
from bot.sandbox.file_store import FileStore
from bot.sandbox.update_queue import UpdateQueue

__all__ = ["ChatPartner", "TelegramState"]

JsonDict = dict[str, Any]


class ChatPartner(Protocol):
    """What a private chat shows of the user the bot talks to."""

    first_name: str
    username: str | None


class TelegramState:
    """Chats, updates, files, callback queries and users, with their Bot API shapes."""

    def __init__(self, bot_user: JsonDict) -> None:
        self.bot_user = bot_user
        self.chats = ChatRecord()
        self.updates = UpdateQueue()
        self.files = FileStore()
        self.users: dict[int, ChatPartner] = {}
        self.callbacks: dict[str, JsonDict | None] = {}
        """Callback query ids with the bot's answer, None until it answers."""
        self._callback_counter = itertools.count(1)

    def new_callback_query(self) -> str:
        """Register an unanswered callback query; returns its id."""
        query_id = f"cbq-{next(self._callback_counter)}"
        self.callbacks[query_id] = None
        return query_id

    def chat_json(self, chat_id: int) -> JsonDict:
        if chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            return {"id": chat_id, "type": kind, "title": f"Chat {chat_id}"}
        user = self.users.get(chat_id)
        chat: JsonDict = {
            "id": chat_id,
            "type": "private",
            "first_name": user.first_name if user else "User",
        }
        if user is not None and user.username:
            chat["username"] = user.username
        return chat

    def message_json(self, message: ChatMessage) -> JsonDict:
        """Render a bot message the way Telegram returns it (valid for aiogram's Message)."""
        data: JsonDict = {
            "message_id": message.message_id,
            "date": message.date,
            "chat": self.chat_json(message.chat_id),
            "from": self.bot_user,
        }
        if message.text is not None:
            data["text"] = message.text
        if message.caption is not None:
            data["caption"] = message.caption
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        # Telegram echoes only inline keyboards; reply keyboards live on the client.
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = message.reply_markup
        if message.file_id is not None:
            if message.photo is not None:
                data["photo"] = [self.files.photo_size(message.file_id)]
            else:
                data["document"] = self.files.document(message.file_id)
        return data
