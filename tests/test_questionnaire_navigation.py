"""Back, changing an answer, and coming back to a finished wave."""

from __future__ import annotations

import logging

import pytest

from bot.chat.callbacks import StartWaveCb
from bot.sandbox.fake_telegram import FakeTelegram, Fault, buttons
from tests.harness import Citizen, RunningBot, open_wave, stored_answers


async def test_back_changes_an_answer_and_drops_what_it_no_longer_implies(
    server: FakeTelegram, running: RunningBot
) -> None:
    await open_wave(running.app, regions=["05"])
    citizen = Citizen(server, server.user(4001, "Зоя"))
    await citizen.onboard("Примор", "Приморский", "Владивосток", "45-54")
    ticked = await citizen.tap("Школа")
    # Only the ticked option carries a mark: no emoji font needed to tell which it is.
    labels = [label for label, _ in buttons(ticked)]
    assert "☑️ Школа" in labels and "Поликлиника" in labels
    assert sum(label.startswith("☑️") for label in labels) == 1
    await citizen.tap("Готово")
    await citizen.tap("4")  # school_teaching
    assert await stored_answers(running.app, 4001) == {
        "services_used": ["school"],
        "school_teaching": 4,
    }

    on_conditions = citizen.last
    assert "вопрос 3 ·" in (on_conditions.text or "")
    await citizen.tap("Назад")
    teaching = await citizen.tap("Назад")
    assert "вопрос 1 ·" in (teaching.text or "")
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


async def test_a_refused_edit_shows_the_next_question_as_a_new_message(
    server: FakeTelegram, running: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    """The question's message was deleted, or is too old to edit: the citizen still gets
    the next question, in a new message, and the refusal is logged once."""
    await open_wave(running.app, survey_id="pulse", regions=["49"])
    citizen = Citizen(server, server.user(4002, "Лев"))
    first = await citizen.onboard("Новгород", "Новгородская", "Великий Новгород", "36-44")
    refusal = iter([Fault.bad_request("message to edit not found")])  # the next edit only
    server.fail_edits(lambda method, chat, attempt: next(refusal, None))
    caplog.set_level(logging.WARNING)
    second = await citizen.tap("4")

    assert second.message_id != first.message_id
    assert "вопрос 2 · 33%" in (second.text or "")
    assert await stored_answers(running.app, 4002) == {"services_overall": 4}
    refusals = [r for r in caplog.records if "refused the edit" in r.getMessage()]
    assert len(refusals) == 1 and "message to edit not found" in refusals[0].getMessage()
    # And on it goes: the new message's buttons work, edited in place again.
    third = await citizen.tap("Пропустить")
    assert third.message_id == second.message_id and "вопрос 3 · 50%" in (third.text or "")
