"""Whatever no other handler took: a short hint, and nothing stored."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.texts import Texts

router = Router(name="fallback")


@router.message(F.chat.type.in_({"group", "supergroup"}), F.text.startswith("/"))
async def command_in_group(message: Message, texts: Texts) -> None:
    await message.reply(texts("error.private_only"))


@router.message(F.chat.type == "private")
async def not_understood(message: Message, texts: Texts) -> None:
    await message.answer(texts("error.not_understood"))


@router.callback_query()
async def stale_button(
    callback: CallbackQuery, texts: Texts, callback_answer: CallbackAnswer
) -> None:
    """Buttons from a finished step, another dialog or a forged payload all end here."""
    callback_answer.text = texts("error.stale_button")
