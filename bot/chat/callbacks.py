"""Callback data of every inline button.

Fields are small integers (indexes, ids) so that any payload stays far below Telegram's
64-byte limit, and every value is re-validated against the database when pressed: a button
is a request, never a proof. A client can send any text as a button's data, so every
integer field is a `Number`: ASCII digits only, within a range SQLite can hold. A payload
outside it does not unpack, and is answered as a stale button like any other.
"""

from __future__ import annotations

from typing import Annotated, Literal

from aiogram.filters.callback_data import CallbackData
from pydantic import BeforeValidator, Field

from bot.chat.callback_packing import (
    ANSWER_PREFIX,
    MAX_NUMBER,
    SEPARATOR,
    STEP_PREFIX,
    TOGGLE_PREFIX,
)


def parse_number(text: str) -> int | None:
    """A typed or pressed number: ASCII digits (not `²` or `٣`, which Python's int reads
    or trips on), no sign, no more than MAX_NUMBER. None for anything else."""
    if text.isascii() and text.isdigit() and len(text) <= len(str(MAX_NUMBER)):
        return int(text)
    return None


def _number_or_refusal(value: object) -> object:
    if isinstance(value, str) and parse_number(value) is None:
        raise ValueError("not a number a button may carry")
    return value


#: An integer field of callback data.
Number = Annotated[int, BeforeValidator(_number_or_refusal), Field(ge=0, le=MAX_NUMBER)]


class ConsentCb(CallbackData, prefix="c"):
    """Carries the language the consent was shown in: nothing is stored before consent."""

    action: Literal["yes", "no", "lang"]
    lang: Literal["ru", "en"]


class LanguageCb(CallbackData, prefix="l"):
    lang: Literal["ru", "en"]


class DistrictCb(CallbackData, prefix="fd"):
    """Open a federal district's region list at a page; index into the catalog's order."""

    district: Number
    page: Number = 0


class DistrictsCb(CallbackData, prefix="fds"):
    """Back to the list of federal districts."""


class RegionCb(CallbackData, prefix="rg"):
    code: str


class MunicipalityPageCb(CallbackData, prefix="mp"):
    page: Number


class MunicipalityCb(CallbackData, prefix="mu"):
    """`code` is an 8-digit OKTMO code, or empty for "other / don't know"."""

    code: str


class AgeCb(CallbackData, prefix="ag"):
    band: Number


class SummaryCb(CallbackData, prefix="sm"):
    """Confirm the profile, change all of it, or only the optional questions (`groups`)."""

    action: Literal["ok", "edit", "groups"]


class GroupCb(CallbackData, prefix="pg"):
    """An answer to one of the profile's optional questions (surveys.profile_groups); the
    pair is checked against that table and the question on screen when pressed."""

    question: Literal["children", "disability", "settlement"]
    answer: Literal["yes", "no", "city", "town", "village", "undisclosed"]


class GroupsSkipCb(CallbackData, prefix="pgs"):
    """Leave the remaining optional questions unanswered (what they held stays)."""


class DisabilityConsentCb(CallbackData, prefix="dc"):
    """The separate consent to the health question; declining withdraws an earlier one."""

    agree: bool


class StartWaveCb(CallbackData, prefix="sw"):
    wave: Number


class AnswerCb(CallbackData, prefix=ANSWER_PREFIX, sep=SEPARATOR):
    """A scale value or an option index for question `question` of response `response`."""

    response: Number
    question: Number
    value: Number


class ToggleCb(CallbackData, prefix=TOGGLE_PREFIX, sep=SEPARATOR):
    response: Number
    question: Number
    option: Number


StepAction = Literal["done", "skip", "back", "dont_know"]


def prefix_of(kind: type[CallbackData]) -> str:
    """How every button of `kind` starts: its prefix and the separator, e.g. `a:`."""
    return f"{kind.__prefix__}{kind.__separator__}"


class StepCb(CallbackData, prefix=STEP_PREFIX, sep=SEPARATOR):
    """Done (multi-choice), Skip (optional), "I don't remember" (a number question that
    offers it) or Back, for a question of a response."""

    response: Number
    question: Number
    action: StepAction


class RegionNewsCb(CallbackData, prefix="rn"):
    """Under the thanks: the region's figures and actions, for the response just finished
    (whose lowest-rated topics come first, so only its own respondent may press it)."""

    response: Number


class DeleteMeCb(CallbackData, prefix="dm"):
    confirm: bool


# Administration. Admin buttons are checked like any other: the admin router's filter
# admits only staff, and every value is re-validated when pressed, against the member's
# role and regions too.


class AdminMenuCb(CallbackData, prefix="am"):
    action: Literal["new", "waves", "actions"]


class WizardSurveyCb(CallbackData, prefix="ws"):
    survey: str


WizardScope = Literal["all", "district", "pick", "mine"]


class WizardScopeCb(CallbackData, prefix="wr"):
    """`mine`: every region of a regional member; `all` and `district` are federal."""

    scope: WizardScope


class WizardDistrictCb(CallbackData, prefix="wd"):
    district: Number


class WizardTracksCb(CallbackData, prefix="wt"):
    tracks: Literal["all", "youth", "general"]


class WizardWhenCb(CallbackData, prefix="ww"):
    """A preset time for the start or end step: `now`, `+7d`, …"""

    value: str


class WizardRemindCb(CallbackData, prefix="wm"):
    """Hours after the invitation; 0 for no reminder."""

    hours: Number


class WizardConfirmCb(CallbackData, prefix="wc"):
    create: bool


class WaveStatsCb(CallbackData, prefix="st"):
    wave: Number


class WaveCancelCb(CallbackData, prefix="wx"):
    """`ask` shows the confirmation; `yes` / `no` answer it."""

    wave: Number
    step: Literal["ask", "yes", "no"]


class ActionsPageCb(CallbackData, prefix="al"):
    """A page of the admin list of regions' actions."""

    page: Number


class ActionCb(CallbackData, prefix="ax"):
    """One action of the admin list: `open` it, give it a status, `remove` it (asks), and
    `yes` / `no` to that question. The action's region is checked against the member's."""

    action: Number
    do: Literal["open", "planned", "in_progress", "done", "remove", "yes", "no"]


ActionStep = Literal["region", "municipality", "topic", "description", "status", "link", "save"]


class ActionPickCb(CallbackData, prefix="ap"):
    """A button answer in the action wizard: a region code, an OKTMO code, a topic id or a
    status, or empty to leave the step's field unset; `save` is 1 to save, 0 to drop."""

    step: ActionStep
    value: str = ""


ResultsKind = Literal["export", "report"]


class ResultsCb(CallbackData, prefix="rs"):
    """An admin's choice of wave for /export (CSV files) or /report (chart)."""

    wave: Number
    kind: ResultsKind
