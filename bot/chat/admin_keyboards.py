"""Inline keyboards of the admin menu, the wave wizard, wave lists and cancellation."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.chat.callbacks import (
    AdminMenuCb,
    WaveCancelCb,
    WaveStatsCb,
    WizardConfirmCb,
    WizardDistrictCb,
    WizardRemindCb,
    WizardScope,
    WizardScopeCb,
    WizardSurveyCb,
    WizardTracksCb,
    WizardWhenCb,
)
from bot.chat.keyboards import choices_keyboard
from bot.chat.texts import Texts
from storage.access import StaffMember
from storage.repositories.waves import Wave
from surveys.regions import RegionCatalog

END_PRESETS_DAYS = (7, 14, 30)
REMIND_PRESETS_HOURS = (24, 48, 72)


def menu_keyboard(texts: Texts, staff: StaffMember) -> InlineKeyboardMarkup:
    """A new wave, and regions' actions, only for those who may plan waves (federal and
    regional staff)."""
    waves = (texts("admin.list_waves"), AdminMenuCb(action="waves"))
    if not staff.plans_waves:
        return choices_keyboard([waves], 1)
    new = (texts("admin.new_wave"), AdminMenuCb(action="new"))
    return choices_keyboard(
        [new, waves, (texts("admin.actions"), AdminMenuCb(action="actions"))], 1
    )


def surveys_keyboard(choices: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    """(survey id, title) pairs."""
    return choices_keyboard(
        [(title, WizardSurveyCb(survey=survey_id)) for survey_id, title in choices], 1
    )


def wizard_scopes(staff: StaffMember) -> tuple[WizardScope, ...]:
    """Every region or a district for federal staff; a regional member's own regions; typed
    codes for both (checked against their regions)."""
    return ("all", "district", "pick") if staff.regions is None else ("mine", "pick")


def scope_keyboard(texts: Texts, staff: StaffMember) -> InlineKeyboardMarkup:
    scopes = wizard_scopes(staff)
    return choices_keyboard(
        [(texts(f"wizard.scope_{scope}"), WizardScopeCb(scope=scope)) for scope in scopes], 1
    )


def wizard_districts_keyboard(catalog: RegionCatalog, texts: Texts) -> InlineKeyboardMarkup:
    return choices_keyboard(
        [
            (district.name.get(texts.language), WizardDistrictCb(district=index))
            for index, district in enumerate(catalog.federal_districts)
        ],
        1,
    )


def tracks_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    return choices_keyboard(
        [
            (texts(f"wizard.tracks.{tracks}"), WizardTracksCb(tracks=tracks))
            for tracks in ("all", "youth", "general")
        ]
    )


def start_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    return choices_keyboard([(texts("wizard.now"), WizardWhenCb(value="now"))])


def end_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    return choices_keyboard(
        [
            (texts("wizard.in_days", days=days), WizardWhenCb(value=f"+{days}d"))
            for days in END_PRESETS_DAYS
        ]
    )


def remind_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    never = (texts("wizard.remind_none"), WizardRemindCb(hours=0))
    presets = [
        (texts("wizard.remind_after", hours=hours), WizardRemindCb(hours=hours))
        for hours in REMIND_PRESETS_HOURS
    ]
    return choices_keyboard([never, *presets], 1, 3)


def confirm_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    return choices_keyboard(
        [
            (texts("wizard.create"), WizardConfirmCb(create=True)),
            (texts("wizard.abort"), WizardConfirmCb(create=False)),
        ]
    )


def waves_admin_keyboard(
    waves: Sequence[Wave], texts: Texts, staff: StaffMember
) -> InlineKeyboardMarkup:
    """One row per wave: its figures, and Cancel while it can still be cancelled, for those
    who may cancel it."""
    builder = InlineKeyboardBuilder()
    for wave in waves:
        row = [
            InlineKeyboardButton(
                text=texts("admin.stats_button", wave=wave.id),
                callback_data=WaveStatsCb(wave=wave.id).pack(),
            )
        ]
        if wave.state in ("scheduled", "open") and staff.manages(wave):
            row.append(
                InlineKeyboardButton(
                    text=texts("admin.cancel_button", wave=wave.id),
                    callback_data=WaveCancelCb(wave=wave.id, step="ask").pack(),
                )
            )
        builder.row(*row)
    return builder.as_markup()


def cancel_keyboard(wave_id: int, texts: Texts) -> InlineKeyboardMarkup:
    return choices_keyboard(
        [
            (texts("admin.cancel_yes"), WaveCancelCb(wave=wave_id, step="yes")),
            (texts("admin.cancel_no"), WaveCancelCb(wave=wave_id, step="no")),
        ]
    )
