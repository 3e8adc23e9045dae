"""A restart resumes a questionnaire where it stopped; erasure erases everything."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.fake_telegram import FakeTelegram
from tests.harness import Citizen, RunningBot, make_settings, open_wave, start_bot, stored_answers


async def test_a_restart_resumes_at_the_question_where_it_stopped(
    server: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(server, tmp_path)
    first = await start_bot(settings)
    await open_wave(first.app, survey_id="pulse", regions=["65"])
    citizen = Citizen(server, server.user(3001, "Егор"))
    await citizen.onboard("Свердлов", "Свердловская", "Екатеринбург", "18-24")
    await citizen.tap("4")
    second_question = await citizen.tap("Пропустить")
    assert "вопрос 3 / 6" in (second_question.text or "")
    await first.stop()

    second = await start_bot(settings)
    try:
        # The same message, still on screen after the restart, keeps working.
        resumed = await citizen.tap("5")
        assert "вопрос 4 / 6" in (resumed.text or "")
        assert await stored_answers(second.app, 3001) == {
            "services_overall": 4,
            "healthcare_month": None,
            "schools_month": 5,
        }
        # /survey after a restart shows the current question again rather than restarting.
        again = await citizen.command("/survey")
        assert "вопрос 4 / 6" in (again.text or "")
    finally:
        await second.stop()


async def test_privacy_explains_and_delete_me_erases_everything(
    server: FakeTelegram, running: RunningBot
) -> None:
    await open_wave(running.app, survey_id="pulse", regions=["49"])
    citizen = Citizen(server, server.user(3002, "Жанна"))
    await citizen.onboard("Новгород", "Новгородская", "Великий Новгород", "31-35")
    await citizen.tap("3")
    assert await stored_answers(running.app, 3002) == {"services_overall": 3}

    privacy = await citizen.command("/privacy")
    assert "Что мы храним и зачем" in (privacy.text or "")

    await citizen.command("/delete_me")
    cancelled = await citizen.tap("Отмена")
    assert "Ничего не удалено" in (cancelled.text or "")
    assert await running.app.store.respondents.by_telegram_id(3002) is not None

    await citizen.command("/delete_me")
    done = await citizen.tap("Да, удалить")
    assert "удалены" in (done.text or "")
    db = running.app.database
    for table in ("respondents", "responses", "answers", "fsm_states"):
        row = await db.fetch_one(f"SELECT count(*) AS n FROM {table}")
        assert row is not None and row["n"] == 0, table


async def test_english_speakers_get_english(server: FakeTelegram, running: RunningBot) -> None:
    citizen = Citizen(server, server.user(3003, "Jane", language_code="en"))
    consent = await citizen.command("/start")
    assert "To take part we need your consent" in (consent.text or "")
    russian = await citizen.tap("Русский")
    assert "нужно ваше согласие" in (russian.text or "")
