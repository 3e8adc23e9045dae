"""Bad input gets a short reply and leaves every stored row exactly as it was."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from bot.chat.callbacks import AnswerCb, StartWaveCb
from bot.sandbox.fake_telegram import FakeTelegram, buttons
from tests.harness import Citizen, RunningBot, open_wave, table_snapshot


async def onboarded(server: FakeTelegram, running: RunningBot, user_id: int = 2001) -> Citizen:
    """A general-track citizen of Novgorod looking at question 1 of the pulse survey."""
    citizen = Citizen(server, server.user(user_id, "Дарья"))
    await citizen.onboard("Новгород", "Новгородская", "Великий Новгород", "36-44")
    return citizen


async def assert_unchanged(running: RunningBot, action: Callable[[], Awaitable[object]]) -> None:
    before = await table_snapshot(running.app)
    await action()
    assert await table_snapshot(running.app) == before


@pytest.fixture
async def pulse_wave(running: RunningBot) -> int:
    return await open_wave(running.app, survey_id="pulse", regions=["49"])


async def test_forged_answer_value_is_refused(
    server: FakeTelegram, running: RunningBot, pulse_wave: int
) -> None:
    citizen = await onboarded(server, running)
    _, data = buttons(citizen.last)[0]
    forged = AnswerCb.unpack(data).model_copy(update={"value": 9}).pack()

    async def press() -> None:
        assert await citizen.press_data(citizen.last.message_id, forged) == "Такого ответа нет."

    await assert_unchanged(running, press)


async def test_a_press_on_an_old_question_is_stale(
    server: FakeTelegram, running: RunningBot, pulse_wave: int
) -> None:
    citizen = await onboarded(server, running)
    first_question = citizen.last.message_id
    _, old_data = buttons(citizen.last)[3]
    await citizen.tap("5")
    assert "вопрос 2 ·" in (citizen.last.text or "")

    async def press_again() -> None:
        assert "устарела" in await citizen.press_data(first_question, old_data)

    await assert_unchanged(running, press_again)


async def test_nobody_can_answer_on_another_respondents_response(
    server: FakeTelegram, running: RunningBot, pulse_wave: int
) -> None:
    victim = await onboarded(server, running, 2001)
    intruder = await onboarded(server, running, 2002)
    _, victim_button = buttons(victim.last)[0]

    async def press_victims_button() -> None:
        assert "устарела" in await intruder.press_data(intruder.last.message_id, victim_button)

    await assert_unchanged(running, press_victims_button)


async def test_a_closed_wave_refuses_answers(
    server: FakeTelegram, running: RunningBot, pulse_wave: int
) -> None:
    citizen = await onboarded(server, running)
    await running.app.store.waves.transition(pulse_wave, ("open",), "closed")
    _, data = buttons(citizen.last)[0]

    async def press() -> None:
        assert "закрыт" in await citizen.press_data(citizen.last.message_id, data)

    await assert_unchanged(running, press)


async def test_a_button_of_a_wave_not_meant_for_the_respondent(
    server: FakeTelegram, running: RunningBot, pulse_wave: int
) -> None:
    citizen = await onboarded(server, running)
    other_region = await open_wave(running.app, survey_id="social_services", regions=["65"])

    async def press() -> None:
        data = StartWaveCb(wave=other_region).pack()
        citizen.user.press(citizen.last.message_id, data)
        reply = await citizen.reply()
        assert "не предназначен" in (reply.text or "")

    await assert_unchanged(running, press)


async def test_stickers_photos_and_long_text_get_a_hint(
    server: FakeTelegram, running: RunningBot, pulse_wave: int
) -> None:
    citizen = await onboarded(server, running)

    async def sticker_at_a_button_question() -> None:
        citizen.user.send_sticker()
        assert "кнопками" in ((await citizen.reply()).text or "")

    await assert_unchanged(running, sticker_at_a_button_question)

    await citizen.tap("4")
    await citizen.tap("Пропустить")
    await citizen.tap("Пропустить")
    await citizen.tap("Не изменилась")
    text_question = await citizen.tap("7")
    assert "предел — 500 символов" in (text_question.text or "")

    async def photo_at_a_text_question() -> None:
        citizen.user.send_photo()
        assert "текстовым сообщением" in ((await citizen.reply()).text or "")

    async def text_over_the_limit() -> None:
        assert "501 символ," in ((await citizen.say("д" * 501)).text or "")

    await assert_unchanged(running, photo_at_a_text_question)
    await assert_unchanged(running, text_over_the_limit)


async def test_commands_in_a_group_are_refused(server: FakeTelegram, running: RunningBot) -> None:
    group = {"id": -100500, "type": "group", "title": "Районный чат"}
    sender = {"id": 2005, "is_bot": False, "first_name": "Ира", "language_code": "ru"}

    async def start_in_group() -> None:
        server.push_update(
            {
                "message": {
                    "message_id": 1,
                    "date": 1,
                    "chat": group,
                    "from": sender,
                    "text": "/start",
                    "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
                }
            }
        )
        reply = await server.wait_for_message(group["id"], since=0)
        assert "личных сообщениях" in (reply.text or "")

    await assert_unchanged(running, start_in_group)


async def test_declining_consent_stores_nothing(server: FakeTelegram, running: RunningBot) -> None:
    citizen = Citizen(server, server.user(2006, "Олег"))

    async def decline() -> None:
        await citizen.command("/start")
        reply = await citizen.tap("Не согласен")
        assert "ничего о вас не сохранили" in (reply.text or "")

    await assert_unchanged(running, decline)
