"""Showing a screen either by editing the message a button sits on or by sending anew."""

from __future__ import annotations

import logging
from contextlib import suppress
from typing import Any

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message

from bot.telegram.plain_methods import EditText, PlainKeyboard

log = logging.getLogger(__name__)


async def show(
    event: Message | CallbackQuery,
    text: str,
    markup: InlineKeyboardMarkup | PlainKeyboard | None = None,
) -> int | None:
    """Edit in place after a button press (one tidy message per step), else reply.

    When Telegram refuses the edit (a message too old to edit, or gone: "message to edit
    not found"), the screen is sent as a new message instead, so that a citizen is never
    left without a way on; the refusal is logged, once. Returns the id of the message that
    shows the screen now.
    """
    if isinstance(event, CallbackQuery):
        message = event.message
        if isinstance(message, Message) and event.bot is not None:
            keyboard = _plain(markup)
            edit = EditText.of(message.chat.id, message.message_id, text, keyboard)
            try:
                return await event.bot(edit)
            except TelegramBadRequest as error:
                if "not modified" in str(error):
                    return message.message_id
                log.warning("the screen is sent anew: Telegram refused the edit (%s)", error)
            return (await message.answer(text, reply_markup=_model(markup))).message_id
        if event.from_user is None or event.bot is None:
            return None
        sent = await event.bot.send_message(event.from_user.id, text, reply_markup=_model(markup))
        return sent.message_id
    return (await event.answer(text, reply_markup=_model(markup))).message_id


def _plain(markup: InlineKeyboardMarkup | PlainKeyboard | None) -> dict[str, Any] | None:
    if isinstance(markup, InlineKeyboardMarkup):
        return markup.model_dump(exclude_none=True)
    return markup


def _model(markup: InlineKeyboardMarkup | PlainKeyboard | None) -> InlineKeyboardMarkup | None:
    """aiogram's own methods (the less frequent paths here) take the model."""
    if markup is None or isinstance(markup, InlineKeyboardMarkup):
        return markup
    return InlineKeyboardMarkup.model_validate(markup)


async def drop_keyboard(message: Message | None) -> None:
    """Remove buttons from a screen that is no longer current, ignoring races."""
    if message is None:
        return
    with suppress(TelegramBadRequest):
        await message.edit_reply_markup(reply_markup=None)
