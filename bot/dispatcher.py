"""Builds the dispatcher: routers in priority order, middlewares and shared services."""

from __future__ import annotations

from aiogram import Dispatcher

from bot.handlers import (
    admin,
    admin_wizard,
    fallback,
    membership,
    onboarding,
    privacy,
    questionnaire,
    results,
)
from bot.inline_filters import inline_magic_filters
from bot.middlewares.callback_answer import CallbackAnswerMiddleware
from bot.middlewares.inflight import InFlightMiddleware
from bot.middlewares.respondent import RespondentMiddleware
from bot.middlewares.serial import SerialPerUser
from bot.middlewares.throttle import RateLimiter, ThrottleMiddleware
from bot.results_cache import ClosedWaveResults
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
        closed_results=ClosedWaveResults(store.database, settings.min_cell_size),
    )
    dispatcher.update.outer_middleware(inflight)
    if settings.throttle_rate > 0:
        # Before anything that touches the database: a dropped update must cost nothing.
        limiter = RateLimiter(settings.throttle_rate, settings.throttle_burst)
        dispatcher.update.outer_middleware(
            ThrottleMiddleware(limiter, store, settings.default_locale)
        )
    dispatcher.update.outer_middleware(SerialPerUser())
    # Outer and first, so that even a press no handler accepts is answered.
    dispatcher.callback_query.outer_middleware(CallbackAnswerMiddleware())
    respondents = RespondentMiddleware(store, settings.default_locale)
    dispatcher.message.outer_middleware(respondents)
    dispatcher.callback_query.outer_middleware(respondents)
    dispatcher.include_routers(
        questionnaire.create_presses_router(),
        membership.create_router(),
        privacy.create_router(),
        # Before the citizen routers, so that an admin's commands are not taken for
        # answers; for anyone else they match nothing and the update goes on.
        admin.create_router(),
        admin_wizard.create_router(),
        results.create_admin_router(),
        results.create_router(),
        onboarding.create_router(),
        questionnaire.create_router(),
        fallback.create_router(),
    )
    inline_magic_filters(dispatcher)
    return dispatcher
