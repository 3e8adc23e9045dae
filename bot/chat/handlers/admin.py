"""Administrators in chat: the menu, the list of waves, a wave's figures, cancelling one.

Creating a wave is the wizard's job (`bot.chat.handlers.admin_wizard`). Both routers are
guarded by `bot.chat.middlewares.admin.admin_only`: for anyone who is not staff they do not
exist, and every action of staff is written to the audit log. Within them each member
sees only the waves that touch their regions, and only their regions' part of a wave; a
wave outside them is answered as if it did not exist, so that nothing about it shows.
"""

from __future__ import annotations

from html import escape

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message
from aiogram.utils.callback_answer import CallbackAnswer

from bot.chat.admin_keyboards import cancel_keyboard, menu_keyboard, waves_admin_keyboard
from bot.chat.admin_views import (
    access_text,
    no_waves_text,
    state_name,
    stats_text,
    survey_label,
    wave_line,
)
from bot.chat.callbacks import AdminMenuCb, WaveCancelCb, WaveStatsCb, parse_number
from bot.chat.handlers.admin_wizard import leave_wizard
from bot.chat.handlers.replies import show
from bot.chat.middlewares.admin import AuditNote, admin_only
from bot.chat.texts import Texts
from bot.settings import Settings
from storage.access import StaffMember, seen_wave, seen_waves
from storage.repositories.waves import Wave
from storage.store import Store
from storage.wave_stats import WaveStats, wave_stats
from surveys.regions import RegionCatalog

#: /waves shows the most recent waves; older ones remain in `civicpulse wave list`.
WAVES_SHOWN = 10


async def pressed_wave(
    callback: CallbackQuery,
    wave_id: int,
    store: Store,
    texts: Texts,
    staff: StaffMember,
    answer: CallbackAnswer,
) -> Wave | None:
    """The wave a button names; a forged, vanished or other regions' one gets a notice on
    the button."""
    wave = await seen_wave(store.waves, staff, wave_id)
    if wave is None or not isinstance(callback.message, Message):
        answer.text = texts("admin.unknown_wave", wave=wave_id)
        return None
    return wave


async def wave_figures(store: Store, staff: StaffMember, wave: Wave) -> WaveStats:
    """The wave's figures as far as they are the member's: their regions' part."""
    return (await wave_stats(store, wave)).within(staff.regions)


async def open_menu(
    message: Message, state: FSMContext, texts: Texts, staff: StaffMember, catalog: RegionCatalog
) -> None:
    await leave_wizard(state)
    text = texts("admin.menu", access=access_text(staff, texts, catalog))
    await message.answer(text, reply_markup=menu_keyboard(texts, staff))


async def list_waves(
    event: Message | CallbackQuery,
    store: Store,
    texts: Texts,
    settings: Settings,
    staff: StaffMember,
) -> None:
    waves = await seen_waves(store.waves, staff, WAVES_SHOWN)
    if not waves:
        await show(event, no_waves_text(staff, texts))
        return
    lines = [texts("admin.waves_header")]
    for wave in waves:
        lines.append(wave_line(await wave_figures(store, staff, wave), texts, settings.zone))
    await show(event, "\n\n".join(lines), waves_admin_keyboard(waves, texts, staff))


async def stats_command(
    message: Message,
    command: CommandObject,
    store: Store,
    texts: Texts,
    settings: Settings,
    catalog: RegionCatalog,
    staff: StaffMember,
    audit: AuditNote,
) -> None:
    """`/stats ID` shows the figures; `/stats` alone offers the recent waves to choose."""
    argument = (command.args or "").strip().lstrip("#")
    if not argument:
        waves = await seen_waves(store.waves, staff, WAVES_SHOWN)
        if not waves:
            await message.answer(no_waves_text(staff, texts))
            return
        await message.answer(
            texts("admin.pick_wave"), reply_markup=waves_admin_keyboard(waves, texts, staff)
        )
        return
    wave_id = parse_number(argument)
    wave = await seen_wave(store.waves, staff, wave_id) if wave_id is not None else None
    if wave is None:
        await message.answer(texts("admin.unknown_wave", wave=escape(argument[:20])))
        return
    audit.regions = staff.concerning(wave)
    figures = await wave_figures(store, staff, wave)
    await message.answer(stats_text(figures, texts, catalog, settings.zone))


async def stats_button(
    callback: CallbackQuery,
    callback_data: WaveStatsCb,
    store: Store,
    texts: Texts,
    settings: Settings,
    catalog: RegionCatalog,
    staff: StaffMember,
    audit: AuditNote,
    callback_answer: CallbackAnswer,
) -> None:
    wave = await pressed_wave(callback, callback_data.wave, store, texts, staff, callback_answer)
    if wave is None or not isinstance(callback.message, Message):
        return
    audit.regions = staff.concerning(wave)
    figures = await wave_figures(store, staff, wave)
    await callback.message.answer(stats_text(figures, texts, catalog, settings.zone))


async def cancel_wave(
    callback: CallbackQuery,
    callback_data: WaveCancelCb,
    store: Store,
    texts: Texts,
    staff: StaffMember,
    audit: AuditNote,
    callback_answer: CallbackAnswer,
) -> None:
    """Ask first; only the confirmation moves the wave, and only from scheduled or open,
    and only for those who could have planned it."""
    wave = await pressed_wave(callback, callback_data.wave, store, texts, staff, callback_answer)
    if wave is None:
        return
    audit.regions = staff.concerning(wave)
    if not staff.manages(wave):
        callback_answer.text = texts("admin.forbidden")
        return
    if callback_data.step == "no":
        await show(callback, texts("admin.cancel_kept", wave=wave.id))
        return
    if wave.state not in ("scheduled", "open"):
        text = texts("admin.cannot_cancel", wave=wave.id, state=state_name(wave, texts))
        if callback_data.step == "yes":
            await show(callback, text)
        else:
            callback_answer.text = text
        return
    if callback_data.step == "ask":
        await callback.message.answer(
            texts("admin.cancel_confirm", wave=wave.id, survey=survey_label(wave)),
            reply_markup=cancel_keyboard(wave.id, texts),
        )
        return
    if await store.waves.transition(wave.id, ("scheduled", "open"), "cancelled"):
        audit.action = "wave.cancel"
        audit.detail = {"wave": wave.id, "was": wave.state}
        await show(callback, texts("admin.cancelled", wave=wave.id))
    else:
        current = await store.waves.get(wave.id) or wave
        await show(
            callback,
            texts("admin.cannot_cancel", wave=wave.id, state=state_name(current, texts)),
        )


def create_router() -> Router:
    """A new router each call: aiogram attaches a router to one dispatcher only."""
    router = admin_only(Router(name="admin"))
    router.message.register(open_menu, Command("admin"))
    router.message.register(list_waves, Command("waves"))
    router.message.register(stats_command, Command("stats"))
    router.callback_query.register(list_waves, AdminMenuCb.filter(F.action == "waves"))
    router.callback_query.register(stats_button, WaveStatsCb.filter())
    router.callback_query.register(cancel_wave, WaveCancelCb.filter())
    return router
