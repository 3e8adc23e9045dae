"""The Bot API calls made for every invitation and every answer, in `PlainFields` form.

Each is built without validation (every value is ours and already of the right type), goes
out as it is and reads back only what its caller uses: the message id of a sent or edited
message, or nothing at all. See `bot.telegram.json_session` for why this lane exists.
"""

from __future__ import annotations

from typing import Any

from aiogram.enums import ParseMode
from aiogram.methods.base import TelegramMethod

from bot.telegram.json_session import PlainFields

#: An inline keyboard as the Bot API takes it: `{"inline_keyboard": [[{"text": …,
#: "callback_data": …}, …], …]}`.
PlainKeyboard = dict[str, list[list[dict[str, str]]]]


def message_id_of(result: Any) -> int:
    """A sent or edited message's id; an inline message's edit answers just `true`."""
    if isinstance(result, dict) and isinstance(result.get("message_id"), int):
        return int(result["message_id"])
    raise ValueError(f"no message id in the answer: {str(result)[:200]}")


def _html_text(chat_id: int, text: str, reply_markup: dict[str, Any] | None) -> dict[str, Any]:
    """The fields a sent and an edited HTML text share; without a keyboard, none is shown."""
    fields: dict[str, Any] = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML.value}
    if reply_markup is not None:
        fields["reply_markup"] = reply_markup
    return fields


class SendText(TelegramMethod[int], PlainFields):
    """`sendMessage` of an HTML text with an optional keyboard; returns the message id."""

    __returning__ = int
    __api_method__ = "sendMessage"

    chat_id: int
    text: str
    reply_markup: dict[str, Any] | None = None
    allow_paid_broadcast: bool | None = None

    @classmethod
    def of(
        cls, chat_id: int, text: str, reply_markup: dict[str, Any] | None, paid: bool = False
    ) -> SendText:
        return cls.model_construct(
            chat_id=chat_id,
            text=text,
            reply_markup=reply_markup,
            allow_paid_broadcast=True if paid else None,
        )

    def plain_fields(self) -> dict[str, Any]:
        fields = _html_text(self.chat_id, self.text, self.reply_markup)
        if self.allow_paid_broadcast:
            fields["allow_paid_broadcast"] = True
        return fields

    def read_result(self, result: Any) -> int:
        return message_id_of(result)


class EditText(TelegramMethod[int], PlainFields):
    """`editMessageText` of a chat message into an HTML text with an optional keyboard
    (none: the buttons go); returns the message id."""

    __returning__ = int
    __api_method__ = "editMessageText"

    chat_id: int
    message_id: int
    text: str
    reply_markup: dict[str, Any] | None = None

    @classmethod
    def of(
        cls, chat_id: int, message_id: int, text: str, reply_markup: dict[str, Any] | None
    ) -> EditText:
        return cls.model_construct(
            chat_id=chat_id, message_id=message_id, text=text, reply_markup=reply_markup
        )

    def plain_fields(self) -> dict[str, Any]:
        return {"message_id": self.message_id} | _html_text(
            self.chat_id, self.text, self.reply_markup
        )

    def read_result(self, result: Any) -> int:
        return message_id_of(result)


class AnswerPress(TelegramMethod[bool], PlainFields):
    """`answerCallbackQuery`: stops the button's spinner, with an optional notice."""

    __returning__ = bool
    __api_method__ = "answerCallbackQuery"

    callback_query_id: str
    text: str | None = None
    show_alert: bool | None = None
    url: str | None = None
    cache_time: int | None = None

    @classmethod
    def of(
        cls,
        callback_query_id: str,
        text: str | None = None,
        show_alert: bool | None = None,
        url: str | None = None,
        cache_time: int | None = None,
    ) -> AnswerPress:
        return cls.model_construct(
            callback_query_id=callback_query_id,
            text=text,
            show_alert=show_alert,
            url=url,
            cache_time=cache_time,
        )

    def plain_fields(self) -> dict[str, Any]:
        fields = {
            "callback_query_id": self.callback_query_id,
            "text": self.text,
            "show_alert": self.show_alert,
            "url": self.url,
            "cache_time": self.cache_time,
        }
        return {key: value for key, value in fields.items() if value is not None}

    def read_result(self, result: Any) -> bool:
        return result is True
