"""Whatever no other handler took: a short hint, and nothing stored."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.chat.texts import Texts


async def command_in_group(message: Message, texts: Texts) -> None:
    await message.reply(texts("error.private_only"))


async def not_understood(message: Message, texts: Texts) -> None:
    await message.answer(texts("error.not_understood"))


async def stale_button(
    callback: CallbackQuery, texts: Texts, callback_answer: CallbackAnswer
) -> None:
    """Buttons from a finished step, another dialog or a forged payload all end here."""
    callback_answer.text = texts("error.stale_button")


def create_router() -> Router:
    """A new router each call: aiogram attaches a router to one dispatcher only."""
    router = Router(name="fallback")
    router.message.register(
        command_in_group, F.chat.type.in_({"group", "supergroup"}), F.text.startswith("/")
    )
    router.message.register(not_understood, F.chat.type == "private")
    router.callback_query.register(stale_button)
    return router
