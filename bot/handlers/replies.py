"""Showing a screen either by editing the message a button sits on or by sending anew."""

from __future__ import annotations

from contextlib import suppress

from aiogram.exceptions import TelegramBadRequest
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message


async def show(
    event: Message | CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """Edit in place after a button press (one tidy message per step), else reply.

    A press on a message too old to edit falls back to a new message rather than failing.
    """
    if isinstance(event, CallbackQuery):
        message = event.message
        if isinstance(message, Message):
            try:
                edited = await message.edit_text(text, reply_markup=markup)
            except TelegramBadRequest as error:
                if "not modified" in str(error):
                    return message
            else:
                return edited if isinstance(edited, Message) else message
            return await message.answer(text, reply_markup=markup)
        if event.from_user is None or event.bot is None:
            return None
        return await event.bot.send_message(event.from_user.id, text, reply_markup=markup)
    return await event.answer(text, reply_markup=markup)


async def drop_keyboard(message: Message | None) -> None:
    """Remove buttons from a screen that is no longer current, ignoring races."""
    if message is None:
        return
    with suppress(TelegramBadRequest):
        await message.edit_reply_markup(reply_markup=None)
