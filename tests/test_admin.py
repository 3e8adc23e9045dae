"""Administrators in chat: the wave wizard, progress, lists, figures, cancelling, the audit.

And the other side: for anyone not in ADMIN_IDS the admin commands do not exist.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.chat.callbacks import AdminMenuCb, WaveCancelCb, WizardConfirmCb
from bot.sandbox.fake_telegram import FakeTelegram, buttons
from storage.wave_planning import WavePlan, create_wave
from surveys.regions import load_catalog
from tests.harness import (
    Citizen,
    add_respondents,
    make_settings,
    open_wave,
    start_bot,
    stored_answers,
    table_snapshot,
    wave_state,
)

ADMIN = 900


@pytest.mark.usefixtures("bot_database_pass")
async def test_an_admin_plans_a_wave_in_chat_watches_it_go_out_and_cancels_it(
    server: FakeTelegram, tmp_path: Path
) -> None:
    running = await start_bot(make_settings(server, tmp_path, admin_ids={ADMIN}))
    try:
        app = running.app
        await add_respondents(
            app, [(8000 + n, "49" if n % 2 else "65", "45-54") for n in range(12)]
        )
        await add_respondents(app, [(8100, "05", "45-54")])  # outside the chosen regions
        admin = Citizen(server, server.user(ADMIN, "Админ"))

        assert "Администрирование" in (await admin.command("/admin")).text
        assert "шаг 1 из 6" in (await admin.tap("Новая волна")).text
        await admin.tap("Ежемесячный опрос о работе госуслуг")
        await admin.tap("Выбрать регионы")
        assert "unknown region code(s): 00" in (await admin.say("49, 00")).text
        assert "Какие треки" in (await admin.say("49, 65")).text
        await admin.tap("Все")
        assert "cannot read the time" in (await admin.say("завтра")).text
        await admin.tap("Сейчас")
        await admin.tap("+7 дней")
        summary = (await admin.tap("Не напоминать")).text or ""
        assert "49 Новгородская область, 65 Свердловская область" in summary
        assert "Треки: Все" in summary

        await admin.tap("Создать")
        assert any("Волна #1 создана" in (m.text or "") for m in admin.user.messages)
        done = await server.wait_for_message(
            ADMIN, lambda m: "приглашения разосланы" in (m.text or ""), timeout=15
        )
        assert "Доставлено: 12 из 12" in (done.text or "")
        assert await wave_state(app, 1) == "open"

        listing = (await admin.command("/waves")).text or ""
        assert "#1" in listing and "открыта" in listing and "приглашено 12" in listing
        stats = (await admin.command("/stats 1")).text or ""
        assert "Приглашено: 12" in stats and "49 Новгородская область: 6 / 6" in stats

        await admin.command("/waves")
        question = await admin.tap("Отменить #1")
        assert "Отменить волну #1" in (question.text or "")
        assert "отменена" in ((await admin.tap("Да, отменить")).text or "")
        assert await wave_state(app, 1) == "cancelled"

        actions = [(entry.actor, entry.action) for entry in await app.store.audit.recent()]
        assert (str(ADMIN), "wave.create") in actions
        assert (str(ADMIN), "wave.cancel") in actions
        assert (str(ADMIN), "message: /admin") in actions
        assert all(actor == str(ADMIN) for actor, _ in actions)
    finally:
        await running.stop()


@pytest.mark.usefixtures("bot_database_pass")
async def test_a_wave_for_a_federal_district_and_one_track_starting_later(
    server: FakeTelegram, tmp_path: Path
) -> None:
    running = await start_bot(make_settings(server, tmp_path, admin_ids={ADMIN}))
    try:
        admin = Citizen(server, server.user(ADMIN, "Админ"))
        await admin.command("/admin")
        await admin.tap("Новая волна")
        await admin.tap("Качество государственных и муниципальных услуг в регионе")
        await admin.tap("Федеральный округ")
        await admin.tap("Северо-Западный федеральный округ")
        await admin.tap("Молодёжный")
        await admin.say("+1h")
        await admin.tap("+14 дней")
        summary = (await admin.tap("Через 24 ч")).text or ""
        assert "Регионы: Северо-Западный федеральный округ" in summary
        await admin.tap("Создать")

        wave = await running.app.store.waves.get(1)
        assert wave is not None and wave.state == "scheduled"
        district = load_catalog().district("northwestern")
        assert district is not None
        assert set(wave.regions) == {region.code for region in district.regions}
        assert (wave.tracks, wave.remind_after_hours, wave.created_by) == ("youth", 24, ADMIN)
    finally:
        await running.stop()


@pytest.mark.usefixtures("bot_database_pass")
async def test_an_admin_half_way_through_a_survey_plans_a_wave_and_both_carry_on(
    server: FakeTelegram, tmp_path: Path
) -> None:
    running = await start_bot(make_settings(server, tmp_path, admin_ids={ADMIN}))
    try:
        app = running.app
        await open_wave(app)
        admin = Citizen(server, server.user(ADMIN, "Админ"))
        survey = await admin.onboard("Новгород", "Новгородская область", None, "45-54")
        await admin.tap("Школа")
        await admin.tap("Готово")
        assert "вопрос 2 ·" in (admin.last.text or "")

        await admin.command("/admin")
        await admin.tap("Новая волна")
        await admin.tap("Ежемесячный опрос о работе госуслуг")
        await admin.tap("Выбрать регионы")
        # Back to the survey while the wizard waits for regions: the answer is taken.
        screen = next(m for m in admin.user.messages if m.message_id == survey.message_id)
        four = next(data for label, data in buttons(screen) if label == "4")
        assert await admin.press_data(survey.message_id, four) == ""
        await server.wait_for(
            lambda: any(
                m.message_id == survey.message_id and "вопрос 3 ·" in (m.text or "")
                for m in admin.user.messages
            )
        )
        # And the wizard carries on where it was.
        assert "Какие треки" in ((await admin.say("49")).text or "")
        await admin.tap("Все")
        await admin.tap("Сейчас")
        await admin.tap("+7 дней")
        await admin.tap("Не напоминать")
        await admin.tap("Создать")
        assert any("Волна #2 создана" in (m.text or "") for m in admin.user.messages)

        stored = await stored_answers(app, ADMIN)
        assert sorted(stored.values(), key=str) == [4, ["school"]]
    finally:
        await running.stop()


@pytest.mark.usefixtures("bot_database_pass")
async def test_admin_commands_do_not_exist_for_anyone_else(
    server: FakeTelegram, tmp_path: Path
) -> None:
    running = await start_bot(make_settings(server, tmp_path, admin_ids={ADMIN}))
    try:
        app = running.app
        await add_respondents(app, [(901, "49", "18-24")])
        now = datetime.now(UTC)
        plan = WavePlan("pulse", now + timedelta(hours=1), now + timedelta(days=1), None, "all")
        wave_id = await create_wave(app.store, app.surveys, plan)
        before = await table_snapshot(app)

        for user_id in (901, 902):  # a registered citizen, and a stranger
            citizen = Citizen(server, server.user(user_id))
            unknown = await citizen.command("/no_such_command")
            for command in ("/admin", "/waves", "/stats", f"/stats {wave_id}"):
                assert (await citizen.command(command)).text == unknown.text
            stale = await citizen.press_data(unknown.message_id, "zz:1")
            for forged in (
                AdminMenuCb(action="new"),
                WaveCancelCb(wave=wave_id, step="yes"),
                WizardConfirmCb(create=True),
            ):
                assert await citizen.press_data(unknown.message_id, forged.pack()) == stale

        assert await table_snapshot(app) == before
        assert await wave_state(app, wave_id) == "scheduled"
    finally:
        await running.stop()
