"""What is stored and why, showing a citizen all of it (/mydata), and erasing it on request."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.chat.callbacks import DeleteMeCb
from bot.chat.filters import ButtonOnMessage
from bot.chat.handlers.replies import show
from bot.chat.keyboards import delete_keyboard
from bot.chat.profile_view import personal_data_text
from bot.chat.results_cache import ClosedWaveResults
from bot.chat.texts import Texts
from bot.settings import Settings
from storage.erasure import erase_person
from storage.fsm import DialogStorage
from storage.personal_data import personal_data
from storage.repositories.respondents import Respondent
from storage.store import Store
from surveys.regions import RegionCatalog


async def privacy(message: Message, texts: Texts, settings: Settings) -> None:
    await message.answer(texts("privacy.body", retention=settings.backup_retention_days))


async def my_data(
    message: Message,
    respondent: Respondent | None,
    store: Store,
    texts: Texts,
    catalog: RegionCatalog,
) -> None:
    if respondent is None:
        await message.answer(texts("mydata.nothing"))
        return
    data = await personal_data(store, respondent)
    await message.answer(personal_data_text(data, texts, catalog))


async def delete_me(message: Message, texts: Texts) -> None:
    await message.answer(texts("delete.confirm"), reply_markup=delete_keyboard(texts))


async def on_delete_me(
    callback: CallbackQuery,
    callback_data: DeleteMeCb,
    state: FSMContext,
    store: Store,
    fsm_storage: DialogStorage,
    closed_results: ClosedWaveResults,
    texts: Texts,
) -> None:
    if not callback_data.confirm:
        await show(callback, texts("delete.cancelled"))
        return
    await state.clear()
    existed = await erase_person(store, fsm_storage, callback.from_user.id)
    closed_results.forget()
    await show(callback, texts("delete.done" if existed else "delete.nothing"))


def create_router() -> Router:
    """A new router each call: aiogram attaches a router to one dispatcher only."""
    router = Router(name="privacy")
    router.message.filter(F.chat.type == "private")
    router.callback_query.filter(F.message.chat.type == "private")
    router.message.register(privacy, Command("privacy"))
    router.message.register(my_data, Command("mydata"))
    router.message.register(delete_me, Command("delete_me"))
    # Erasure needs no dialog state, so the button must really be on the message pressed.
    router.callback_query.register(on_delete_me, DeleteMeCb.filter(), ButtonOnMessage())
    return router
