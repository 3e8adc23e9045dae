"""Inline keyboards of the admin menu, the wave wizard, wave lists and cancellation."""

from __future__ import annotations

from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot.callbacks import (
    AdminMenuCb,
    WaveCancelCb,
    WaveStatsCb,
    WizardConfirmCb,
    WizardDistrictCb,
    WizardRemindCb,
    WizardScopeCb,
    WizardSurveyCb,
    WizardTracksCb,
    WizardWhenCb,
)
from bot.texts import Texts
from storage.repositories.waves import Wave
from surveys.regions import RegionCatalog

END_PRESETS_DAYS = (7, 14, 30)
REMIND_PRESETS_HOURS = (24, 48, 72)


def menu_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts("admin.new_wave"), callback_data=AdminMenuCb(action="new"))
    builder.button(text=texts("admin.list_waves"), callback_data=AdminMenuCb(action="waves"))
    builder.adjust(1)
    return builder.as_markup()


def surveys_keyboard(choices: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup:
    """(survey id, title) pairs."""
    builder = InlineKeyboardBuilder()
    for survey_id, title in choices:
        builder.button(text=title, callback_data=WizardSurveyCb(survey=survey_id))
    builder.adjust(1)
    return builder.as_markup()


def scope_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for scope in ("all", "district", "pick"):
        builder.button(
            text=texts(f"wizard.scope_{scope}"), callback_data=WizardScopeCb(scope=scope)
        )
    builder.adjust(1)
    return builder.as_markup()


def wizard_districts_keyboard(catalog: RegionCatalog, texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for index, district in enumerate(catalog.federal_districts):
        builder.button(
            text=district.name.get(texts.language), callback_data=WizardDistrictCb(district=index)
        )
    builder.adjust(1)
    return builder.as_markup()


def tracks_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for tracks in ("all", "youth", "general"):
        builder.button(
            text=texts(f"wizard.tracks.{tracks}"), callback_data=WizardTracksCb(tracks=tracks)
        )
    builder.adjust(3)
    return builder.as_markup()


def start_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts("wizard.now"), callback_data=WizardWhenCb(value="now"))
    return builder.as_markup()


def end_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for days in END_PRESETS_DAYS:
        builder.button(
            text=texts("wizard.in_days", days=days), callback_data=WizardWhenCb(value=f"+{days}d")
        )
    builder.adjust(3)
    return builder.as_markup()


def remind_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts("wizard.remind_none"), callback_data=WizardRemindCb(hours=0))
    for hours in REMIND_PRESETS_HOURS:
        builder.button(
            text=texts("wizard.remind_after", hours=hours),
            callback_data=WizardRemindCb(hours=hours),
        )
    builder.adjust(1, 3)
    return builder.as_markup()


def confirm_keyboard(texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=texts("wizard.create"), callback_data=WizardConfirmCb(create=True))
    builder.button(text=texts("wizard.abort"), callback_data=WizardConfirmCb(create=False))
    return builder.as_markup()


def waves_admin_keyboard(waves: Sequence[Wave], texts: Texts) -> InlineKeyboardMarkup:
    """One row per wave: its figures, and Cancel while it can still be cancelled."""
    builder = InlineKeyboardBuilder()
    for wave in waves:
        row = [
            InlineKeyboardButton(
                text=texts("admin.stats_button", wave=wave.id),
                callback_data=WaveStatsCb(wave=wave.id).pack(),
            )
        ]
        if wave.state in ("scheduled", "open"):
            row.append(
                InlineKeyboardButton(
                    text=texts("admin.cancel_button", wave=wave.id),
                    callback_data=WaveCancelCb(wave=wave.id, step="ask").pack(),
                )
            )
        builder.row(*row)
    return builder.as_markup()


def cancel_keyboard(wave_id: int, texts: Texts) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=texts("admin.cancel_yes"), callback_data=WaveCancelCb(wave=wave_id, step="yes")
    )
    builder.button(
        text=texts("admin.cancel_no"), callback_data=WaveCancelCb(wave=wave_id, step="no")
    )
    return builder.as_markup()
