"""Builds the dispatcher: routers in priority order, middlewares and shared services."""

from __future__ import annotations

from aiogram import Dispatcher
from aiogram.utils.callback_answer import CallbackAnswerMiddleware

from bot.handlers import fallback, onboarding, privacy, questionnaire
from bot.middlewares.inflight import InFlightMiddleware
from bot.middlewares.respondent import RespondentMiddleware
from bot.settings import Settings
from storage.fsm import SQLiteStorage
from storage.participation import Participation
from storage.store import Store
from surveys.regions import RegionCatalog


def build_dispatcher(
    settings: Settings,
    store: Store,
    catalog: RegionCatalog,
    inflight: InFlightMiddleware,
) -> Dispatcher:
    fsm_storage = SQLiteStorage(store.database)
    dispatcher = Dispatcher(
        storage=fsm_storage,
        fsm_storage=fsm_storage,
        settings=settings,
        store=store,
        catalog=catalog,
        participation=Participation(store),
    )
    dispatcher.update.outer_middleware(inflight)
    # Outer and first, so that even a press no handler accepts is answered.
    dispatcher.callback_query.outer_middleware(CallbackAnswerMiddleware())
    respondents = RespondentMiddleware(store, settings.default_locale)
    dispatcher.message.outer_middleware(respondents)
    dispatcher.callback_query.outer_middleware(respondents)
    dispatcher.include_routers(
        privacy.create_router(),
        onboarding.create_router(),
        questionnaire.create_router(),
        fallback.create_router(),
    )
    return dispatcher
