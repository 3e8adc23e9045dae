"""Filters shared by several routers."""

from __future__ import annotations

from aiogram.filters import Filter
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


class ButtonOnMessage(Filter):
    """The press carries the data of a button that is really on the message pressed.

    A modified client can send any callback data, but the message in a callback query
    comes from Telegram, keyboard included. For steps that act without a dialog state to
    check against — erasing one's data, giving consent — this is the proof that the
    citizen was shown the button they pressed. (Presses on question buttons arrive without
    their keyboard, `trim_question_press`: they are checked against the dialog instead.)
    """

    async def __call__(self, callback: CallbackQuery) -> bool:
        message = callback.message
        if not isinstance(message, Message):
            return False
        markup = message.reply_markup
        if not isinstance(markup, InlineKeyboardMarkup):
            return False
        return any(
            button.callback_data == callback.data
            for row in markup.inline_keyboard
            for button in row
        )
