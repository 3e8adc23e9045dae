"""Builds the dispatcher: routers in priority order, middlewares and shared services."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.chat.handlers import (
    action_wizard,
    actions,
    admin,
    admin_actions,
    admin_wizard,
    fallback,
    membership,
    onboarding,
    privacy,
    questionnaire,
    results,
)
from bot.chat.inline_filters import inline_magic_filters
from bot.chat.middlewares import Middleware
from bot.chat.middlewares.callback_answer import CallbackAnswerMiddleware
from bot.chat.middlewares.inflight import InFlightMiddleware
from bot.chat.middlewares.respondent import RespondentMiddleware
from bot.chat.middlewares.serial import CitizenTurn, SerialPerUser
from bot.chat.middlewares.staff import StaffMiddleware
from bot.chat.middlewares.throttle import RateLimiter, ThrottleMiddleware
from bot.chat.press_lane import LaneDispatcher, PressLane
from bot.chat.results_cache import ClosedWaveResults
from bot.settings import Settings
from storage.coordination import CitizenReading, Coordination
from storage.fsm import DialogStorage
from storage.participation import Participation
from storage.store import Store
from surveys.regions import RegionCatalog


def build_dispatcher(
    settings: Settings,
    store: Store,
    catalog: RegionCatalog,
    inflight: InFlightMiddleware,
    coordination: Coordination,
) -> LaneDispatcher:
    fsm_storage = DialogStorage(store.database)
    dispatcher = LaneDispatcher(
        storage=fsm_storage,
        fsm_storage=fsm_storage,
        settings=settings,
        store=store,
        catalog=catalog,
        participation=Participation(store),
        closed_results=ClosedWaveResults(store.database, settings.min_cell_size),
    )
    update_middlewares: list[Middleware] = [inflight]
    if settings.throttle_rate > 0:
        # Before anything that touches the database: a dropped update must cost nothing.
        limiter = RateLimiter(settings.throttle_rate, settings.throttle_burst)
        update_middlewares.append(ThrottleMiddleware(limiter, store, settings.default_locale))
    update_middlewares.append(SerialPerUser(_citizen_turn(coordination, fsm_storage)))
    respondents = RespondentMiddleware(store, settings.default_locale)
    # The button answer is outer and first, so that even a press no handler accepts is
    # answered.
    press_middlewares: list[Middleware] = [CallbackAnswerMiddleware(), respondents]
    for middleware in update_middlewares:
        dispatcher.update.outer_middleware(middleware)
    for middleware in press_middlewares:
        dispatcher.callback_query.outer_middleware(middleware)
    dispatcher.message.outer_middleware(respondents)
    # Not on the press lane: a question press is never an administrator's action.
    staff = StaffMiddleware(store, settings.admin_ids)
    dispatcher.message.outer_middleware(staff)
    dispatcher.callback_query.outer_middleware(staff)
    dispatcher.lane = PressLane(
        questionnaire.PRESS_HANDLERS,
        update_middlewares,
        [*press_middlewares, questionnaire.DialogMiddleware()],
    )
    dispatcher.include_routers(
        questionnaire.create_presses_router(),
        membership.create_router(),
        privacy.create_router(),
        # Before the citizen routers, so that an admin's commands are not taken for
        # answers; for anyone else they match nothing and the update goes on.
        admin.create_router(),
        admin_wizard.create_router(),
        admin_actions.create_router(),
        action_wizard.create_router(),
        results.create_admin_router(),
        results.create_router(),
        actions.create_router(),
        onboarding.create_router(),
        questionnaire.create_router(),
        fallback.create_router(),
    )
    inline_magic_filters(dispatcher)
    return dispatcher


def _citizen_turn(coordination: Coordination, fsm_storage: DialogStorage) -> CitizenTurn:
    """The turn `SerialPerUser` takes across processes; where other processes may have
    moved the citizen's dialog on, the dialog is read afresh inside it."""
    if not coordination.shared:
        return coordination.turn

    @asynccontextmanager
    async def turn(user_id: int) -> AsyncIterator[CitizenReading | None]:
        async with coordination.turn(user_id) as reading:
            if reading is None:
                fsm_storage.drop_cached(user_id)
            else:
                fsm_storage.remember_turn(user_id, reading.dialogs)
            yield reading

    return turn
