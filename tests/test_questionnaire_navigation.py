"""Back, changing an answer, and coming back to a finished wave."""

from __future__ import annotations

from bot.chat.callbacks import StartWaveCb
from bot.sandbox.fake_telegram import FakeTelegram
from tests.harness import Citizen, RunningBot, open_wave, stored_answers


async def test_back_changes_an_answer_and_drops_what_it_no_longer_implies(
    server: FakeTelegram, running: RunningBot
) -> None:
    await open_wave(running.app, regions=["05"])
    citizen = Citizen(server, server.user(4001, "Зоя"))
    await citizen.onboard("Примор", "Приморский", "Владивосток", "45-54")
    await citizen.tap("Школа")
    await citizen.tap("Готово")
    await citizen.tap("4")  # school_teaching
    assert await stored_answers(running.app, 4001) == {
        "services_used": ["school"],
        "school_teaching": 4,
    }

    on_conditions = citizen.last
    assert "вопрос 3 /" in (on_conditions.text or "")
    await citizen.tap("Назад")
    teaching = await citizen.tap("Назад")
    assert "вопрос 1 /" in (teaching.text or "")
    assert "Ваш ответ: Школа" in (teaching.text or "")
    await citizen.tap("Школа")  # untick the earlier choice
    await citizen.tap("Поликлиника")
    next_question = await citizen.tap("Готово")

    # The school questions no longer apply: their answer is gone and the clinic ones follow.
    assert "приёма у терапевта" in (next_question.text or "")
    assert await stored_answers(running.app, 4001) == {"services_used": ["clinic"]}


async def test_a_finished_wave_says_it_is_done(server: FakeTelegram, running: RunningBot) -> None:
    wave = await open_wave(running.app, survey_id="pulse", regions=["49"])
    citizen = Citizen(server, server.user(4002, "Яков"))
    await citizen.onboard("Новгород", "Новгородская", None, "65+")
    for label in ("5", "4", "Пропустить", "Стала лучше", "9", "Пропустить"):
        await citizen.tap(label)
    assert "Спасибо" in (citizen.last.text or "")

    again = await citizen.command("/survey")
    assert "прошли все открытые опросы" in (again.text or "")
    citizen.user.press(citizen.last.message_id, StartWaveCb(wave=wave).pack())
    done = await citizen.reply()
    assert "уже прошли опрос" in (done.text or "")
    assert len(await stored_answers(running.app, 4002)) == 6
