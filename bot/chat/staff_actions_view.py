"""Regions' actions as staff see them in the admin chat: the paged list, one action's card
and the wizard's summary, with their buttons.

Every title, description and link was typed by staff, and place and topic names come from
files, so each is escaped here, where it is shown. A page holds few enough actions that the
longest titles under the longest place names stay inside one message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.chat.callbacks import ActionCb, ActionPickCb, ActionsPageCb, ActionStep
from bot.chat.keyboards import choices_keyboard
from bot.chat.texts import Texts
from surveys.actions import STATUSES, Action, ActionDraft, ActionError
from surveys.regions import RegionCatalog

#: Actions on one page of the list: eight lines of the longest title and place fit a message.
PAGE_SIZE = 8


def refusal_text(error: ActionError, texts: Texts) -> str:
    """Why an entry was not saved, in the reader's language where the rule has its words
    (`surveys.actions.ActionError.code`), else as the command line says it."""
    reason = texts(f"action_error.{error.code}", **error.values) if error.code else None
    return texts("staff_actions.refused", reason=reason or escape(str(error)))


def place_name(draft: ActionDraft, catalog: RegionCatalog, texts: Texts) -> str:
    """The municipality's name, or the region's for a whole-region action; escaped."""
    if draft.municipality_code is not None:
        found = catalog.municipality(draft.region_code, draft.municipality_code)
        return escape(found.name.get(texts.language) if found else draft.municipality_code)
    region = catalog.region(draft.region_code)
    return escape(region.name.get(texts.language) if region else draft.region_code)


def list_screen(
    actions: Sequence[Action], page: int, catalog: RegionCatalog, texts: Texts
) -> tuple[str, InlineKeyboardMarkup]:
    """One page of actions, each with a button to open it, and the way to add one."""
    pages = max(1, -(-len(actions) // PAGE_SIZE))
    page = min(page, pages - 1)
    shown = actions[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    builder = InlineKeyboardBuilder()
    if not shown:
        text = texts("staff_actions.none")
    else:
        lines = [texts("staff_actions.header", page=page + 1, pages=pages)]
        for action in shown:
            status = texts(f"actions.status.{action.status}")
            place = place_name(action, catalog, texts)
            title = escape(action.title_ru)
            lines.append(
                texts("staff_actions.line", id=action.id, place=place, title=title, status=status)
            )
        text = "\n\n".join(lines)
        builder.row(*(_button(texts("staff_actions.open", id=a.id), _open(a)) for a in shown[:4]))
        builder.row(*(_button(texts("staff_actions.open", id=a.id), _open(a)) for a in shown[4:]))
    turns = []
    if page > 0:
        turns.append(_button(texts("staff_actions.previous"), ActionsPageCb(page=page - 1)))
    if page < pages - 1:
        turns.append(_button(texts("staff_actions.next"), ActionsPageCb(page=page + 1)))
    builder.row(*turns)
    add = ActionPickCb(step="region", value="")
    builder.row(_button(texts("staff_actions.add"), add))
    return text, builder.as_markup()


def summary(
    draft: ActionDraft, catalog: RegionCatalog, topics: Mapping[str, str], texts: Texts
) -> str:
    """Every field of an action, escaped: the card of a stored one and the wizard's check."""
    nothing = texts("staff_actions.nothing")
    region = catalog.region(draft.region_code)
    municipality = (
        place_name(draft, catalog, texts)
        if draft.municipality_code
        else texts("staff_actions.whole_region")
    )
    topic = topics.get(draft.topic or "", draft.topic or "")
    return texts(
        "staff_actions.summary",
        region=escape(region.name.get(texts.language) if region else draft.region_code),
        municipality=municipality,
        topic=escape(topic) or nothing,
        title=escape(draft.title_ru),
        description=escape(draft.description_ru or "") or nothing,
        status=texts(f"actions.status.{draft.status}"),
        link=escape(draft.link or "") or nothing,
    )


def card_keyboard(action: Action, texts: Texts) -> InlineKeyboardMarkup:
    """The other statuses, and removal."""
    statuses = [
        (
            texts("staff_actions.set_status", status=texts(f"actions.status.{status}")),
            ActionCb(action=action.id, do=status),
        )
        for status in STATUSES
        if status != action.status
    ]
    remove = (texts("staff_actions.remove"), ActionCb(action=action.id, do="remove"))
    return choices_keyboard([*statuses, remove], 1)


def remove_keyboard(action: Action, texts: Texts) -> InlineKeyboardMarkup:
    return choices_keyboard(
        [
            (texts("staff_actions.remove_yes"), ActionCb(action=action.id, do="yes")),
            (texts("staff_actions.remove_no"), ActionCb(action=action.id, do="no")),
        ]
    )


def picks_keyboard(
    step: ActionStep, choices: Sequence[tuple[str, str]], skip: str | None = None
) -> InlineKeyboardMarkup:
    """(value, label) buttons of a wizard step, one a row, and a last one leaving it unset."""
    buttons = [(label, ActionPickCb(step=step, value=value)) for value, label in choices]
    if skip is not None:
        buttons.append((skip, ActionPickCb(step=step, value="")))
    return choices_keyboard(buttons, 1)


def _open(action: Action) -> ActionCb:
    return ActionCb(action=action.id, do="open")


def _button(text: str, data: ActionCb | ActionsPageCb | ActionPickCb) -> InlineKeyboardButton:
    return InlineKeyboardButton(text=text, callback_data=data.pack())
