"""Simulated Telegram users: what a person does in a private chat with the bot.

A test (or a sandbox visitor) acts as a citizen: writes, sends commands, stickers and
photos, presses inline buttons, blocks the bot.  Each action is recorded in the chat and
pushed as the update Telegram would deliver, so the bot receives it exactly as it would a
real person's, through ``getUpdates``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Final

from bot.sandbox.chat_record import ChatMessage, buttons
from bot.sandbox.file_store import UploadedFile
from bot.sandbox.telegram_state import TelegramState

__all__ = ["FakeUser"]

JsonDict = dict[str, Any]

_PNG_1X1: Final = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7"
    b"5\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


class FakeUser:
    """A Telegram user in a private chat with the bot (chat id == user id).

    Every action pushes an update at once and returns its id; the bot sees it on its next
    ``getUpdates``.  Actions are synchronous on purpose: a test then awaits the visible
    outcome (``server.wait_for_message``) instead of sleeping.
    """

    def __init__(
        self,
        telegram: TelegramState,
        push_update: Callable[[JsonDict], int],
        user_id: int,
        first_name: str = "User",
        language_code: str | None = "ru",
        username: str | None = None,
    ) -> None:
        self._telegram = telegram
        self._push_update = push_update
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.username = username

    @property
    def chat_id(self) -> int:
        return self.id

    def as_dict(self) -> JsonDict:
        """The ``User`` object Telegram puts in ``from`` fields."""
        user: JsonDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username:
            user["username"] = self.username
        if self.language_code:
            user["language_code"] = self.language_code
        return user

    @property
    def blocked(self) -> bool:
        return self._telegram.chats.state(self.id).blocked

    @property
    def messages(self) -> list[ChatMessage]:
        """The bot's visible messages in this user's chat."""
        return self._telegram.chats.messages(self.id)

    @property
    def last_message(self) -> ChatMessage | None:
        return self._telegram.chats.last_message(self.id)

    def send_text(self, text: str) -> int:
        """The user writes ``text``; returns the update id."""
        return self._send({"text": text})

    def send_command(self, command: str) -> int:
        """The user sends ``/command [args]`` with the ``bot_command`` entity clients add."""
        text = command if command.startswith("/") else f"/{command}"
        length = len(text.split(maxsplit=1)[0])
        entity = {"type": "bot_command", "offset": 0, "length": length}
        return self._send({"text": text, "entities": [entity]})

    def send_sticker(self, emoji: str = "👍") -> int:
        """The user sends a sticker, i.e. something that is neither text nor a command."""
        n = self._telegram.files.next_number()
        sticker = {
            "file_id": f"sticker-{n}",
            "file_unique_id": f"us{n}",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return self._send({"sticker": sticker})

    def send_photo(self, content: bytes = _PNG_1X1, caption: str | None = None) -> int:
        """The user sends a photo; the bot can fetch it back through ``getFile``."""
        upload = UploadedFile("photo.png", content, "image/png")
        file_id = self._telegram.files.store(upload, "photos")
        payload: JsonDict = {"photo": [self._telegram.files.photo_size(file_id)]}
        if caption is not None:
            payload["caption"] = caption
        return self._send(payload, photo=upload, file_id=file_id)

    def press(self, message_id: int, data: str) -> str:
        """Press an inline button carrying ``data`` under the bot's message ``message_id``.

        ``data`` is not checked against the keyboard, so tests can also send stale or
        forged callback data.  Returns the callback query id.
        """
        telegram = self._telegram
        state = telegram.chats.state(self.id)
        message = state.by_id.get(message_id)
        if message is None or message.deleted or not message.from_bot:
            raise AssertionError(f"chat {self.id} has no bot message {message_id} to press on")
        if state.blocked:
            raise AssertionError(f"user {self.id} blocked the bot; call unblock() first")
        query_id = telegram.new_callback_query()
        state.action_version = state.version
        self._push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": self.as_dict(),
                    "message": telegram.message_json(message),
                    "chat_instance": str(self.id),
                    "data": data,
                }
            }
        )
        return query_id

    def press_button(self, text_substring: str) -> str:
        """Press the button whose text contains ``text_substring``.

        Looks through the bot's messages newest first and uses the latest one that has a
        matching callback button; an exact text match wins over substring matches.  Raises
        AssertionError (listing the buttons on offer) if there is no unique match.
        """
        messages = self.messages
        for message in reversed(messages):
            options = [b for b in buttons(message) if text_substring in b[0]]
            if not options:
                continue
            exact = [b for b in options if b[0] == text_substring]
            if len(exact) == 1:
                options = exact
            if len(options) > 1:
                raise AssertionError(
                    f"{len(options)} buttons match {text_substring!r} in message "
                    f"{message.message_id} of chat {self.id}: {[b[0] for b in options]}"
                )
            text, data = options[0]
            if not data:
                raise AssertionError(f"button {text!r} has no callback_data (URL/web app?)")
            return self.press(message.message_id, data)
        with_keyboard = [m for m in messages if buttons(m)]
        if with_keyboard:
            latest = with_keyboard[-1]
            offer = f"message {latest.message_id} offers {[b[0] for b in buttons(latest)]}"
        else:
            offer = "no message in the chat has inline buttons"
        raise AssertionError(f"no button containing {text_substring!r} in chat {self.id}; {offer}")

    def block(self) -> int | None:
        """The user blocks the bot: later sends get 403 and a ``my_chat_member`` update is
        pushed (kicked).  Returns its update id, or None if the bot was already blocked."""
        return self._set_blocked(blocked=True)

    def unblock(self) -> int | None:
        """The user unblocks the bot (``my_chat_member``: member again)."""
        return self._set_blocked(blocked=False)

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r})"

    def _send(
        self,
        payload: JsonDict,
        *,
        photo: UploadedFile | None = None,
        file_id: str | None = None,
    ) -> int:
        """Record the user's message in the chat and push it to the bot."""
        telegram = self._telegram
        state = telegram.chats.state(self.id)
        if state.blocked:
            raise AssertionError(f"user {self.id} blocked the bot; call unblock() first")
        message = ChatMessage(
            chat_id=self.id,
            message_id=telegram.chats.next_message_id(self.id),
            date=int(time.time()),
            from_bot=False,
            text=payload.get("text"),
            raw_text=payload.get("text"),
            caption=payload.get("caption"),
            photo=photo,
            file_id=file_id,
        )
        telegram.chats.add(message)
        state.action_version = state.version
        return self._push_update(
            {
                "message": {
                    "message_id": message.message_id,
                    "date": message.date,
                    "chat": telegram.chat_json(self.id),
                    "from": self.as_dict(),
                    **payload,
                }
            }
        )

    def _set_blocked(self, *, blocked: bool) -> int | None:
        telegram = self._telegram
        state = telegram.chats.state(self.id)
        if state.blocked == blocked:
            return None
        state.blocked = blocked
        member = {"user": telegram.bot_user, "status": "member"}
        kicked = {"user": telegram.bot_user, "status": "kicked", "until_date": 0}
        old, new = (member, kicked) if blocked else (kicked, member)
        return self._push_update(
            {
                "my_chat_member": {
                    "chat": telegram.chat_json(self.id),
                    "from": self.as_dict(),
                    "date": int(time.time()),
                    "old_chat_member": old,
                    "new_chat_member": new,
                }
            }
        )
