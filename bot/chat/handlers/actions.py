"""Citizens' `/actions`: what their region, and their municipality, is doing about what
people said. Anyone with a profile may ask; nothing is stored."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.types import Message

from bot.chat.actions_view import area_actions_text
from bot.chat.texts import Texts
from storage.repositories.respondents import Respondent
from storage.store import Store
from storage.survey_sync import StoredSurvey
from surveys.regions import RegionCatalog


async def my_actions(
    message: Message,
    respondent: Respondent | None,
    store: Store,
    texts: Texts,
    catalog: RegionCatalog,
    surveys: dict[str, StoredSurvey],
) -> None:
    if respondent is None or respondent.region_code is None:
        await message.answer(texts("profile.needed"))
        return
    found = await store.actions.for_area(respondent.region_code, respondent.municipality_code)
    surveys_known = (stored.survey for stored in surveys.values())
    await message.answer(
        area_actions_text(found, respondent.region_code, (), catalog, surveys_known, texts)
    )


def create_router() -> Router:
    """A new router each call: aiogram attaches a router to one dispatcher only."""
    router = Router(name="actions")
    router.message.filter(F.chat.type == "private")
    router.message.register(my_actions, Command("actions"))
    return router
