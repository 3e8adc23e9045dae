"""The action wizard: region → municipality → topic → title → description → status → link →
confirm.

It keeps its answers in the wave wizard's dialog record (`admin_wizard.wizard_of`), so that
/admin drops a half-done one like any other, and a restart resumes it. Every typed text is
checked when it is given, by the rules the command line uses (`surveys.actions`), and the
whole action once more at the confirmation (`surveys.action_entry`); a refusal shows the
rule's message and stores nothing. The region is checked against the member's record when
it is chosen and again when the action is saved, so neither a typed code, a forged button
nor a change of staff in between stores an action for another region.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, Message

from bot.chat.actions_view import topic_titles
from bot.chat.callbacks import ActionPickCb
from bot.chat.handlers.admin_wizard import Event, WizardStep, show_new, wizard_of
from bot.chat.handlers.replies import show
from bot.chat.middlewares.admin import AuditNote, admin_only
from bot.chat.staff_actions_view import picks_keyboard, refusal_text, summary
from bot.chat.texts import Texts
from bot.settings import Settings
from storage.access import StaffMember
from storage.clock import utc_now
from storage.store import Store
from storage.survey_sync import StoredSurvey
from surveys.action_entry import ActionSubjects, described, entered
from surveys.actions import (
    DESCRIPTION_LIMIT,
    STATUSES,
    TITLE_LIMIT,
    ActionDraft,
    ActionError,
    checked,
    checked_link,
)
from surveys.regions import RegionCatalog

#: Municipalities offered for a typed name.
MUNICIPALITIES_OFFERED = 6


class ActionWizard(StatesGroup):
    region = State()
    municipality = State()
    topic = State()
    title = State()
    description = State()
    status = State()
    link = State()
    confirm = State()


def _topics(surveys: dict[str, StoredSurvey], texts: Texts) -> dict[str, str]:
    return topic_titles((stored.survey for stored in surveys.values()), texts.language)


def _draft(data: dict[str, Any]) -> ActionDraft | None:
    """The action the answers so far describe; None if the dialog lost its region."""
    if "region" not in data:
        return None
    return ActionDraft(
        region_code=data["region"],
        title_ru=data.get("title") or "",
        municipality_code=data.get("municipality"),
        topic=data.get("topic"),
        description_ru=data.get("description"),
        status=data.get("status", "planned"),
        link=data.get("link"),
    )


async def begin(
    callback: CallbackQuery,
    state: FSMContext,
    texts: Texts,
    catalog: RegionCatalog,
    staff: StaffMember,
) -> None:
    """A regional member picks among their regions; federal staff type a code."""
    wizard = wizard_of(state)
    await wizard.set_state(ActionWizard.region)
    await wizard.set_data({})
    choices = [
        (code, region.name.get(texts.language))
        for code in sorted(staff.regions or ())
        if (region := catalog.region(code)) is not None
    ]
    await show(callback, texts("staff_actions.ask_region"), picks_keyboard("region", choices))


async def on_region(
    event: Event,
    wizard: FSMContext,
    texts: Texts,
    staff: StaffMember,
    catalog: RegionCatalog,
    callback_data: ActionPickCb | None = None,
) -> None:
    code = (callback_data.value if callback_data else _typed(event)).strip()
    if catalog.region(code) is None:
        await show_new(event, texts("staff_actions.unknown_region", code=escape(code[:20])))
        return
    if not staff.covers(code):
        await show_new(event, texts("admin.forbidden"))
        return
    await wizard.update_data(region=code)
    await wizard.set_state(ActionWizard.municipality)
    keyboard = picks_keyboard("municipality", [], texts("staff_actions.whole_region_button"))
    await show(event, texts("staff_actions.ask_municipality"), keyboard)


async def on_municipality(
    event: Event,
    wizard: FSMContext,
    texts: Texts,
    catalog: RegionCatalog,
    surveys: dict[str, StoredSurvey],
    callback_data: ActionPickCb | None = None,
) -> None:
    region = (await wizard.get_data()).get("region", "")
    if callback_data is not None:
        code = callback_data.value or None
        if code is not None and catalog.municipality(region, code) is None:
            await show_new(event, texts("error.stale_button"))
            return
    else:
        typed = _typed(event).strip()
        exact = catalog.municipality(region, typed)
        found = (
            [exact]
            if exact
            else catalog.search_municipalities(region, typed, MUNICIPALITIES_OFFERED)
        )
        if not found:
            await show_new(event, texts("staff_actions.no_municipality"))
            return
        if len(found) > 1:
            choices = [(m.code, m.name.get(texts.language)) for m in found]
            await show(
                event,
                texts("staff_actions.ask_municipality"),
                picks_keyboard("municipality", choices),
            )
            return
        code = found[0].code
    await wizard.update_data(municipality=code)
    await wizard.set_state(ActionWizard.topic)
    choices = list(_topics(surveys, texts).items())
    keyboard = picks_keyboard("topic", choices, texts("staff_actions.no_topic"))
    await show(event, texts("staff_actions.ask_topic"), keyboard)


async def on_topic(
    callback: CallbackQuery,
    callback_data: ActionPickCb,
    wizard: FSMContext,
    texts: Texts,
    surveys: dict[str, StoredSurvey],
) -> None:
    topic = callback_data.value or None
    if topic is not None and topic not in _topics(surveys, texts):
        await show_new(callback, texts("error.stale_button"))
        return
    await wizard.update_data(topic=topic)
    await wizard.set_state(ActionWizard.title)
    await show(callback, texts("staff_actions.ask_title", limit=TITLE_LIMIT))


async def on_title(message: Message, wizard: FSMContext, texts: Texts) -> None:
    data = await wizard.get_data()
    try:
        title = checked(ActionDraft(data.get("region", ""), message.text or "")).title_ru
    except ActionError as error:
        await message.answer(refusal_text(error, texts))
        return
    await wizard.update_data(title=title)
    await wizard.set_state(ActionWizard.description)
    keyboard = picks_keyboard("description", [], texts("staff_actions.skip"))
    await message.answer(
        texts("staff_actions.ask_description", limit=DESCRIPTION_LIMIT), reply_markup=keyboard
    )


async def on_description(
    event: Event, wizard: FSMContext, texts: Texts, callback_data: ActionPickCb | None = None
) -> None:
    typed = None if callback_data else _typed(event)
    try:
        description = checked(ActionDraft("", "-", description_ru=typed)).description_ru
    except ActionError as error:
        await show_new(event, refusal_text(error, texts))
        return
    await wizard.update_data(description=description)
    await wizard.set_state(ActionWizard.status)
    choices = [(status, texts(f"actions.status.{status}")) for status in STATUSES]
    await show(event, texts("staff_actions.ask_status"), picks_keyboard("status", choices))


async def on_status(
    callback: CallbackQuery, callback_data: ActionPickCb, wizard: FSMContext, texts: Texts
) -> None:
    if callback_data.value not in STATUSES:
        await show_new(callback, texts("error.stale_button"))
        return
    await wizard.update_data(status=callback_data.value)
    await wizard.set_state(ActionWizard.link)
    keyboard = picks_keyboard("link", [], texts("staff_actions.skip"))
    await show(callback, texts("staff_actions.ask_link"), keyboard)


async def on_link(
    event: Event,
    wizard: FSMContext,
    texts: Texts,
    catalog: RegionCatalog,
    surveys: dict[str, StoredSurvey],
    callback_data: ActionPickCb | None = None,
) -> None:
    try:
        link = checked_link(None if callback_data else _typed(event))
    except ActionError as error:
        await show_new(event, refusal_text(error, texts))
        return
    draft = _draft(await wizard.update_data(link=link))
    if draft is None:
        await wizard.clear()
        await show(event, texts("wizard.expired"))
        return
    await wizard.set_state(ActionWizard.confirm)
    text = texts(
        "staff_actions.confirm", summary=summary(draft, catalog, _topics(surveys, texts), texts)
    )
    keyboard = picks_keyboard("save", [("1", texts("staff_actions.save"))], texts("wizard.abort"))
    await show(event, text, keyboard)


async def on_save(
    callback: CallbackQuery,
    callback_data: ActionPickCb,
    wizard: FSMContext,
    texts: Texts,
    settings: Settings,
    store: Store,
    catalog: RegionCatalog,
    surveys: dict[str, StoredSurvey],
    staff: StaffMember,
    audit: AuditNote,
) -> None:
    draft = _draft(await wizard.get_data())
    await wizard.clear()
    if callback_data.value != "1":
        await show(callback, texts("staff_actions.aborted"))
        return
    if draft is None:
        await show(callback, texts("wizard.expired"))
        return
    if not staff.covers(draft.region_code):  # their regions changed since they chose
        await show(callback, texts("admin.forbidden"))
        return
    today = utc_now().astimezone(settings.zone).date()
    subjects = ActionSubjects.of(stored.survey for stored in surveys.values())
    try:
        draft = entered(replace(draft, since=today), catalog, subjects)
    except ActionError as error:
        await show(callback, refusal_text(error, texts))
        return
    action_id = await store.actions.add(draft, str(staff.telegram_id))
    audit.action = "action.add"
    audit.detail = {"id": action_id, **described(draft)}
    audit.regions = draft.region_code
    await show(callback, texts("staff_actions.saved", id=action_id))


def _typed(event: Event) -> str:
    return (event.text if isinstance(event, Message) else None) or ""


def _step(state: State) -> tuple[Any, ...]:
    """Filters for a button answer at `state`."""
    return WizardStep(state), ActionPickCb.filter(F.step == state.state.split(":")[1])


def _typed_at(state: State) -> tuple[Any, ...]:
    """Filters for a typed answer at `state` (commands are left to their handlers)."""
    return WizardStep(state), F.text, ~F.text.startswith("/")


def create_router() -> Router:
    """A new router each call: aiogram attaches a router to one dispatcher only."""
    router = admin_only(Router(name="action_wizard"), planners=True)
    callbacks, messages = router.callback_query, router.message
    # "Add" is the region step's button with no region: it always starts anew.
    callbacks.register(begin, ActionPickCb.filter((F.step == "region") & (F.value == "")))
    callbacks.register(on_region, *_step(ActionWizard.region))
    messages.register(on_region, *_typed_at(ActionWizard.region))
    callbacks.register(on_municipality, *_step(ActionWizard.municipality))
    messages.register(on_municipality, *_typed_at(ActionWizard.municipality))
    callbacks.register(on_topic, *_step(ActionWizard.topic))
    messages.register(on_title, *_typed_at(ActionWizard.title))
    callbacks.register(on_description, *_step(ActionWizard.description))
    messages.register(on_description, *_typed_at(ActionWizard.description))
    callbacks.register(on_status, *_step(ActionWizard.status))
    callbacks.register(on_link, *_step(ActionWizard.link))
    messages.register(on_link, *_typed_at(ActionWizard.link))
    callbacks.register(
        on_save, WizardStep(ActionWizard.confirm), ActionPickCb.filter(F.step == "save")
    )
    return router
