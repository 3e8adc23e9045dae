"""Regions' actions in the admin chat: the list of the member's regions' actions, one
action's card, a new status, removal with confirmation. Adding is the action wizard's job
(`bot.chat.handlers.action_wizard`).

Only federal and regional staff reach this router: analysts read results, and actions are
public anyway (citizens' `/actions`), so a menu whose purpose is changing them would give
analysts a power their role does not have and nothing they need. Within it, an action of a
region not the member's is answered as if it did not exist, whether the button was old,
forged or their regions changed since; nothing about it shows and nothing changes.
"""

from __future__ import annotations

from dataclasses import replace
from html import escape

from aiogram import F, Router
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.chat.actions_view import topic_titles
from bot.chat.callbacks import ActionCb, ActionsPageCb, AdminMenuCb
from bot.chat.handlers.replies import show
from bot.chat.middlewares.admin import AuditNote, admin_only
from bot.chat.staff_actions_view import card_keyboard, list_screen, remove_keyboard, summary
from bot.chat.texts import Texts
from bot.settings import Settings
from storage.access import StaffMember
from storage.clock import utc_now
from storage.store import Store
from storage.survey_sync import StoredSurvey
from surveys.action_entry import changed_fields, draft_of
from surveys.actions import Action
from surveys.regions import RegionCatalog


async def theirs(store: Store, staff: StaffMember, action_id: int) -> Action | None:
    """The action a button names, if it is of one of the member's regions."""
    action = await store.actions.get(action_id)
    return action if action is not None and staff.covers(action.region_code) else None


async def list_actions(
    callback: CallbackQuery,
    store: Store,
    texts: Texts,
    catalog: RegionCatalog,
    staff: StaffMember,
    callback_data: ActionsPageCb | AdminMenuCb | None = None,
) -> None:
    regions = None if staff.regions is None else sorted(staff.regions)
    actions = await store.actions.listed(regions)
    page = callback_data.page if isinstance(callback_data, ActionsPageCb) else 0
    text, markup = list_screen(actions, page, catalog, texts)
    await show(callback, text, markup)


async def on_action(
    callback: CallbackQuery,
    callback_data: ActionCb,
    store: Store,
    texts: Texts,
    catalog: RegionCatalog,
    settings: Settings,
    surveys: dict[str, StoredSurvey],
    staff: StaffMember,
    audit: AuditNote,
    callback_answer: CallbackAnswer,
) -> None:
    action = await theirs(store, staff, callback_data.action)
    if action is None or not isinstance(callback.message, Message):
        callback_answer.text = texts("staff_actions.unknown", id=callback_data.action)
        return
    audit.regions = action.region_code
    do = callback_data.do
    if do == "open":
        titles = topic_titles((stored.survey for stored in surveys.values()), texts.language)
        card = summary(action, catalog, titles, texts)
        text = texts("staff_actions.card", id=action.id, summary=card)
        await show(callback, text, card_keyboard(action, texts))
    elif do == "remove":
        title = action.title_ru
        text = texts("staff_actions.remove_confirm", id=action.id, title=escape(title))
        await show(callback, text, remove_keyboard(action, texts))
    elif do == "no":
        await show(callback, texts("staff_actions.kept", id=action.id))
    elif do == "yes":
        await store.actions.remove(action.id)
        audit.action = "action.remove"
        audit.detail = {"id": action.id, "title_ru": action.title_ru}
        await show(callback, texts("staff_actions.removed", id=action.id))
    elif do != action.status:
        today = utc_now().astimezone(settings.zone).date()
        draft = replace(draft_of(action), status=do, since=today)
        await store.actions.update(action.id, draft)
        audit.action = "action.update"
        audit.detail = {"id": action.id, "changed": changed_fields(action, draft)}
        status = texts(f"actions.status.{do}")
        await show(callback, texts("staff_actions.status_set", id=action.id, status=status))


def create_router() -> Router:
    """A new router each call: aiogram attaches a router to one dispatcher only."""
    router = admin_only(Router(name="admin_actions"), planners=True)
    router.callback_query.register(list_actions, AdminMenuCb.filter(F.action == "actions"))
    router.callback_query.register(list_actions, ActionsPageCb.filter())
    router.callback_query.register(on_action, ActionCb.filter())
    return router
