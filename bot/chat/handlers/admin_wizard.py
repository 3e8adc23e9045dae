"""The wave wizard: survey → regions → tracks → start → end → reminder → confirm.

Each answer is kept in the wizard's own dialog state (so it survives a restart) and checked
when given. That dialog is apart from the administrator's citizen dialog: an administrator
who is also a respondent can plan a wave half-way through a survey, and both carry on. The
wave itself is created only at the confirmation, by `storage.wave_planning`, the same
code and the same refusals as `civicpulse wave create`. Every step's buttons work only in
that step: a press from an older screen falls through to the stale-button reply.

Only staff who may plan waves reach the wizard, and each is offered only their regions:
federal staff every region, a federal district or typed codes; a regional member all
of theirs or typed codes among them. The regions are checked against the member's
record as it is when they are chosen and again at the confirmation, so a forged button
or a change of staff in the meantime creates nothing outside their regions.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message, TelegramObject
from aiogram.utils.callback_answer import CallbackAnswer

from bot.chat.admin_keyboards import (
    REMIND_PRESETS_HOURS,
    confirm_keyboard,
    end_keyboard,
    remind_keyboard,
    scope_keyboard,
    start_keyboard,
    surveys_keyboard,
    tracks_keyboard,
    wizard_districts_keyboard,
    wizard_scopes,
)
from bot.chat.admin_views import regions_label
from bot.chat.callbacks import (
    AdminMenuCb,
    WizardConfirmCb,
    WizardDistrictCb,
    WizardRemindCb,
    WizardScopeCb,
    WizardSurveyCb,
    WizardTracksCb,
    WizardWhenCb,
)
from bot.chat.handlers.replies import show
from bot.chat.middlewares.admin import AuditNote, admin_only
from bot.chat.texts import Texts
from bot.settings import Settings
from bot.waves.sender_duty import SenderDuty
from bot.waves.when import parse_when, show_when
from storage.access import ALL_REGIONS, StaffMember, regions_text
from storage.clock import from_db, to_db
from storage.store import Store
from storage.survey_sync import StoredSurvey
from storage.wave_planning import WavePlan, WavePlanError, create_wave, parse_regions
from surveys.regions import RegionCatalog

Event = Message | CallbackQuery
#: Typed wizard answers are short; anything longer is cut before parsing.
MAX_INPUT = 500


class AdminWizard(StatesGroup):
    survey = State()
    scope = State()
    district = State()
    regions = State()
    tracks = State()
    start = State()
    end = State()
    remind = State()
    confirm = State()


#: The FSM "destiny" of the wizard's dialog: the same chat and user, another record.
WIZARD_DESTINY = "wizard"


def wizard_of(state: FSMContext) -> FSMContext:
    """The wizard's dialog in the chat whose citizen dialog is `state`."""
    return FSMContext(storage=state.storage, key=replace(state.key, destiny=WIZARD_DESTINY))


class WizardStep(Filter):
    """The wizard is at one of `steps`; hands the handler the wizard's dialog as `wizard`."""

    def __init__(self, *steps: State) -> None:
        self._steps = {step.state for step in steps}

    async def __call__(self, event: TelegramObject, state: FSMContext) -> bool | dict[str, Any]:
        wizard = wizard_of(state)
        if await wizard.get_state() not in self._steps:
            return False
        return {"wizard": wizard}


async def leave_wizard(state: FSMContext) -> None:
    """Drop a half-done wizard; a citizen dialog the admin is in stays as it is."""
    await wizard_of(state).clear()


async def begin(
    callback: CallbackQuery,
    state: FSMContext,
    texts: Texts,
    surveys: dict[str, StoredSurvey],
) -> None:
    wizard = wizard_of(state)
    await wizard.set_state(AdminWizard.survey)
    await wizard.set_data({})
    choices = [
        (survey_id, stored.survey.title.get(texts.language))
        for survey_id, stored in sorted(surveys.items())
    ]
    await show(callback, texts("wizard.survey"), surveys_keyboard(choices))


async def on_survey(
    callback: CallbackQuery,
    callback_data: WizardSurveyCb,
    wizard: FSMContext,
    texts: Texts,
    surveys: dict[str, StoredSurvey],
    staff: StaffMember,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.survey not in surveys:
        callback_answer.text = texts("error.stale_button")
        return
    await wizard.update_data(survey=callback_data.survey)
    await wizard.set_state(AdminWizard.scope)
    await show(callback, texts("wizard.scope"), scope_keyboard(texts, staff))


async def on_scope(
    callback: CallbackQuery,
    callback_data: WizardScopeCb,
    wizard: FSMContext,
    texts: Texts,
    catalog: RegionCatalog,
    staff: StaffMember,
    callback_answer: CallbackAnswer,
) -> None:
    if callback_data.scope not in wizard_scopes(staff):
        callback_answer.text = texts("admin.forbidden")
    elif callback_data.scope == "all":
        await ask_tracks(callback, wizard, texts, None, texts("wizard.all_regions"))
    elif callback_data.scope == "mine":
        codes = sorted(staff.regions or ())
        await ask_tracks(callback, wizard, texts, codes, regions_label(codes, catalog, texts))
    elif callback_data.scope == "district":
        await wizard.set_state(AdminWizard.district)
        await show(callback, texts("wizard.district"), wizard_districts_keyboard(catalog, texts))
    else:
        await wizard.set_state(AdminWizard.regions)
        await show(callback, _regions_prompt(texts, staff, catalog))


def _regions_prompt(texts: Texts, staff: StaffMember, catalog: RegionCatalog) -> str:
    if staff.regions is None:
        return texts("wizard.regions_ask")
    yours = texts(
        "wizard.regions_yours", regions=regions_label(sorted(staff.regions), catalog, texts)
    )
    return f"{texts('wizard.regions_ask')}\n{yours}"


async def on_district(
    callback: CallbackQuery,
    callback_data: WizardDistrictCb,
    wizard: FSMContext,
    texts: Texts,
    catalog: RegionCatalog,
    staff: StaffMember,
    callback_answer: CallbackAnswer,
) -> None:
    districts = catalog.federal_districts
    if not 0 <= callback_data.district < len(districts):
        callback_answer.text = texts("error.stale_button")
        return
    district = districts[callback_data.district]
    codes = [region.code for region in district.regions]
    if not staff.may_target(codes):
        callback_answer.text = texts("admin.forbidden")
        return
    await ask_tracks(callback, wizard, texts, codes, escape(district.name.get(texts.language)))


async def on_regions(
    message: Message, wizard: FSMContext, texts: Texts, catalog: RegionCatalog, staff: StaffMember
) -> None:
    try:
        codes = parse_regions((message.text or "")[:MAX_INPUT], catalog)
    except WavePlanError as error:
        await message.answer(texts("wizard.refused", reason=escape(str(error))))
        return
    if not staff.may_target(codes):
        outside = (
            ALL_REGIONS if codes is None else ", ".join(c for c in codes if not staff.covers(c))
        )
        yours = regions_label(sorted(staff.regions or ()), catalog, texts)
        await message.answer(texts("wizard.outside_access", codes=escape(outside), regions=yours))
        return
    label = texts("wizard.all_regions") if codes is None else regions_label(codes, catalog, texts)
    await ask_tracks(message, wizard, texts, codes, label)


async def ask_tracks(
    event: Event, wizard: FSMContext, texts: Texts, regions: list[str] | None, label: str
) -> None:
    await wizard.update_data(regions=regions, regions_label=label)
    await wizard.set_state(AdminWizard.tracks)
    await show(event, texts("wizard.tracks"), tracks_keyboard(texts))


async def on_tracks(
    callback: CallbackQuery,
    callback_data: WizardTracksCb,
    wizard: FSMContext,
    texts: Texts,
    settings: Settings,
) -> None:
    await wizard.update_data(tracks=callback_data.tracks)
    await wizard.set_state(AdminWizard.start)
    markup = start_keyboard(texts)
    await show(callback, texts("wizard.start", zone=settings.timezone), markup)


async def on_time(
    event: Event,
    wizard: FSMContext,
    texts: Texts,
    settings: Settings,
    callback_data: WizardWhenCb | None = None,
) -> None:
    """The start and the end are read alike: a preset button or a typed time."""
    at_start = await wizard.get_state() == AdminWizard.start.state
    if callback_data is not None:
        if (callback_data.value == "now") != at_start:
            await show_new(event, texts("error.stale_button"))
            return
        typed = callback_data.value
    else:
        typed = ((event.text if isinstance(event, Message) else None) or "")[:MAX_INPUT]
    try:
        moment = parse_when(typed, settings.zone)
    except (ValueError, OverflowError) as error:
        await show_new(event, texts("wizard.refused", reason=escape(str(error))))
        return
    if at_start:
        await wizard.update_data(start=to_db(moment))
        await wizard.set_state(AdminWizard.end)
        await show(event, texts("wizard.end", zone=settings.timezone), end_keyboard(texts))
    else:
        await wizard.update_data(end=to_db(moment))
        await wizard.set_state(AdminWizard.remind)
        await show(event, texts("wizard.remind"), remind_keyboard(texts))


async def on_remind(
    callback: CallbackQuery,
    callback_data: WizardRemindCb,
    wizard: FSMContext,
    texts: Texts,
    settings: Settings,
    surveys: dict[str, StoredSurvey],
) -> None:
    if callback_data.hours not in (0, *REMIND_PRESETS_HOURS):
        await show_new(callback, texts("error.stale_button"))
        return
    hours = callback_data.hours or None
    data = await wizard.update_data(remind=hours)
    plan = _plan(data)
    if plan is None or plan.survey_id not in surveys:
        await wizard.clear()
        await show(callback, texts("wizard.expired"))
        return
    await wizard.set_state(AdminWizard.confirm)
    summary = texts(
        "wizard.confirm",
        survey=escape(surveys[plan.survey_id].survey.title.get(texts.language)),
        regions=data.get("regions_label") or texts("wizard.all_regions"),
        tracks=texts(f"wizard.tracks.{plan.tracks}"),
        start=show_when(plan.starts_at, settings.zone),
        end=show_when(plan.ends_at, settings.zone),
        remind=texts("wizard.remind_none")
        if hours is None
        else texts("wizard.remind_after", hours=hours),
    )
    await show(callback, summary, confirm_keyboard(texts))


async def on_confirm(
    callback: CallbackQuery,
    callback_data: WizardConfirmCb,
    wizard: FSMContext,
    texts: Texts,
    settings: Settings,
    store: Store,
    surveys: dict[str, StoredSurvey],
    sender_duty: SenderDuty,
    audit: AuditNote,
    staff: StaffMember,
) -> None:
    plan = _plan(await wizard.get_data())
    await wizard.clear()
    if not callback_data.create:
        await show(callback, texts("wizard.aborted"))
        return
    if plan is None:
        await show(callback, texts("wizard.expired"))
        return
    if not staff.may_target(plan.regions):  # their regions changed since they chose
        await show(callback, texts("admin.forbidden"))
        return
    try:
        wave_id = await create_wave(store, surveys, plan, created_by=staff.telegram_id)
    except WavePlanError as error:
        await show(callback, texts("wizard.refused", reason=escape(str(error))))
        return
    audit.action = "wave.create"
    audit.detail = {"wave": wave_id, **_describe(plan)}
    audit.regions = regions_text(plan.regions)
    await show(
        callback,
        texts("wizard.created", wave=wave_id, start=show_when(plan.starts_at, settings.zone)),
    )
    # Opens it now if it starts now, and plans the exact-time job if it starts soon (in
    # the instance that sends; another one's next sweep does it a few seconds later).
    await sender_duty.sweep()


async def show_new(event: Event, text: str) -> None:
    """A refusal as a new message, so the step's prompt and buttons stay usable."""
    message = event.message if isinstance(event, CallbackQuery) else event
    if isinstance(message, Message):
        await message.answer(text)


def _plan(data: dict[str, Any]) -> WavePlan | None:
    """The wave the wizard's answers describe; None if the dialog state lost a step."""
    try:
        return WavePlan(
            survey_id=data["survey"],
            starts_at=from_db(data["start"]),
            ends_at=from_db(data["end"]),
            regions=data["regions"],
            tracks=data["tracks"],
            remind_after_hours=data.get("remind"),
        )
    except (KeyError, TypeError, ValueError):
        return None


def _describe(plan: WavePlan) -> dict[str, Any]:
    return {
        "survey": plan.survey_id,
        "start": to_db(plan.starts_at),
        "end": to_db(plan.ends_at),
        "regions": "all" if plan.regions is None else list(plan.regions),
        "tracks": plan.tracks,
        "remind_after_hours": plan.remind_after_hours,
    }


def _typed(state: State) -> tuple[Any, ...]:
    """Filters for a typed answer at `state` (commands are left to their handlers)."""
    return WizardStep(state), F.text, ~F.text.startswith("/")


def create_router() -> Router:
    """A new router each call: aiogram attaches a router to one dispatcher only."""
    router = admin_only(Router(name="admin_wizard"), planners=True)
    callbacks, messages = router.callback_query, router.message
    callbacks.register(begin, AdminMenuCb.filter(F.action == "new"))
    callbacks.register(on_survey, WizardStep(AdminWizard.survey), WizardSurveyCb.filter())
    callbacks.register(on_scope, WizardStep(AdminWizard.scope), WizardScopeCb.filter())
    callbacks.register(on_district, WizardStep(AdminWizard.district), WizardDistrictCb.filter())
    messages.register(on_regions, *_typed(AdminWizard.regions))
    callbacks.register(on_tracks, WizardStep(AdminWizard.tracks), WizardTracksCb.filter())
    callbacks.register(
        on_time, WizardStep(AdminWizard.start, AdminWizard.end), WizardWhenCb.filter()
    )
    messages.register(on_time, *_typed(AdminWizard.start))
    messages.register(on_time, *_typed(AdminWizard.end))
    callbacks.register(on_remind, WizardStep(AdminWizard.remind), WizardRemindCb.filter())
    callbacks.register(on_confirm, WizardStep(AdminWizard.confirm), WizardConfirmCb.filter())
    return router
