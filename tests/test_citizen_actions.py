"""Citizens' /actions: their region's and municipality's actions, by topic, escaped."""

from __future__ import annotations

from datetime import date

from bot.chat.actions_view import MAX_SHOWN, actions_text
from bot.chat.callbacks import RegionNewsCb
from bot.chat.text_length import MAX_TEXT_LENGTH, visible_length
from bot.chat.texts import Texts
from bot.sandbox.fake_telegram import ChatMessage, FakeTelegram
from surveys.actions import TITLE_LIMIT, Action, ActionDraft, checked
from tests.harness import Citizen, RunningBot, add_respondents, open_wave, wave_messages
from tests.test_results_change import ELSEWHERE, FIRST, PEOPLE, SECOND, closed_pulse

TOWN, DISTRICT = "49701000", "49603000"


async def _add(running: RunningBot, draft: ActionDraft) -> int:
    return await running.app.store.actions.add(checked(draft), "7049")


async def test_a_citizen_reads_what_their_region_and_municipality_are_doing(
    server: FakeTelegram, running: RunningBot
) -> None:
    citizen = Citizen(server, server.user(5301, "Лена"))
    assert (await citizen.command("/actions")).text == (
        "Сначала расскажите немного о себе: нажмите /start."
    )
    await open_wave(running.app, survey_id="pulse", regions=["49"])
    await citizen.onboard("Новгород", "Новгородская", "Великий Новгород", "31-35")
    await _add(running, ActionDraft("49", "Школьный автобус", topic="education"))
    await _add(
        running,
        ActionDraft(
            "49",
            "<script>alert(1)</script>",
            municipality_code=TOWN,
            topic="healthcare",
            status="in_progress",
            since=date(2026, 10, 1),
            link="https://example.org/?a=1&b=2",
        ),
    )
    await _add(
        running, ActionDraft("49", "Запись к врачу онлайн", topic="healthcare", status="done")
    )
    await _add(running, ActionDraft("49", "Не в их районе", municipality_code=DISTRICT))
    await _add(running, ActionDraft("65", "Другой регион"))
    await _add(running, ActionDraft("49", "Без темы"))

    reply = await citizen.command("/actions")

    assert (reply.text or "").split("\n") == [
        "Что делается: Новгородская область",
        "",
        "Здравоохранение",
        "• Запись к врачу онлайн — сделано",
        "• <script>alert(1)</script> (Великий Новгород) — идёт работа, 01.10.2026",
        "  подробнее",
        "",
        "Школы",
        "• Школьный автобус — запланировано",
        "",
        "Другое",
        "• Без темы — запланировано",
    ]
    # Sent as HTML: the typed title escaped, the link an escaped attribute.
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in (reply.raw_text or "")
    assert '<a href="https://example.org/?a=1&amp;b=2">подробнее</a>' in (reply.raw_text or "")


def test_many_actions_are_counted_and_the_longest_list_fits_one_message() -> None:
    """Ten shown, each with the longest title, place and link under a heading of its own;
    the others counted, with the plural the count asks for."""
    long_title = "Т" * TITLE_LIMIT
    actions = [
        Action(
            "49",
            long_title,
            municipality_code=TOWN,
            topic=f"t{i}",
            status="in_progress",
            since=date(2026, 12, 31),
            link="https://example.org/" + "x" * 100,
        )
        for i in range(MAX_SHOWN + 2)
    ]
    titles = {f"t{i}": "Ж" * 120 for i in range(MAX_SHOWN + 2)}
    places = {TOWN: "Н" * 80}
    for language, more in (("ru", "И ещё 2 меры."), ("en", "Also 2 actions not listed here.")):
        text = actions_text("Р" * 60, actions, titles, places, Texts(language))
        assert text.endswith(more)
        assert visible_length(text) <= MAX_TEXT_LENGTH
    assert Texts("ru")("actions.more", n=5) == "И ещё 5 мер."
    assert Texts("ru")("actions.more", n=1) == "И ещё 1 мера."


async def test_the_button_under_the_thanks_shows_the_region_and_its_lowest_rated_topics_first(
    server: FakeTelegram, running: RunningBot
) -> None:
    """5401 answers pulse twice; the first wave is closed, the second still open. Under the
    second thanks, the button shows the first wave's figures for Novgorod, then the actions,
    this response's lowest-rated topics first: healthcare 50 (3 of 5), the region 60 (6 of
    10), public services 62.5 ((75 + 50) / 2)."""
    await add_respondents(running.app, PEOPLE)
    await closed_pulse(server, running, {5401: FIRST, 5402: FIRST, 5403: ELSEWHERE})
    for title, topic in (("Госуслуги онлайн", "public_services"), ("Парк", "region")):
        await _add(running, ActionDraft("49", title, topic=topic))
    await _add(running, ActionDraft("49", "Поликлиника", topic="healthcare"))
    wave = await open_wave(running.app, survey_id="pulse", regions=["49"])
    await server.wait_for(lambda: len(wave_messages(server, wave)) == 2, timeout=10)
    citizen = Citizen(server, server.user(5401))
    await citizen.tap("Пройти опрос")
    for label in SECOND:
        await citizen.tap(label)
    thanks = citizen.last
    assert "Спасибо" in (thanks.text or "")

    await citizen.tap("📊 Как дела в моём регионе")

    def sent(start: str) -> ChatMessage | None:
        later = [m for m in citizen.user.messages if m.message_id > thanks.message_id]
        return next((m for m in later if (m.text or "").startswith(start)), None)

    await server.wait_for(lambda: sent("Что делается") is not None)
    figures, actions = sent("Ежемесячный опрос"), sent("Что делается")
    assert figures is not None and actions is not None
    assert figures.message_id < actions.message_id
    assert "Госуслуги в целом: 25,0" in (figures.text or "")
    assert [line for line in (actions.text or "").split("\n") if line.startswith("•")] == [
        "• Поликлиника — запланировано",
        "• Парк — запланировано",
        "• Госуслуги онлайн — запланировано",
    ]

    # Someone else's thanks button, forged: not on the message pressed, so refused as any
    # stale button is, and nothing sent.
    other = Citizen(server, server.user(5402))
    before = len(other.user.messages)
    pressed = RegionNewsCb(response=await _response_of(running, 5401, wave)).pack()
    assert await other.press_data(other.last.message_id, pressed) == (
        "Эта кнопка устарела. Ответьте на текущий вопрос."
    )
    assert len(other.user.messages) == before

    # Their own button, once they erased their data: the response is gone with them.
    await citizen.command("/delete_me")
    await citizen.tap("Да, удалить")
    count = len(citizen.user.messages)
    assert await citizen.press_data(thanks.message_id, pressed) == (
        "Эта кнопка больше не действует. Результаты региона: /results."
    )
    assert len(citizen.user.messages) == count


async def _response_of(running: RunningBot, telegram_id: int, wave_id: int) -> int:
    row = await running.app.database.fetch_one(
        "SELECT r.id FROM responses r JOIN respondents p ON p.id = r.respondent_id"
        " WHERE p.telegram_id = ? AND r.wave_id = ?",
        (telegram_id, wave_id),
    )
    assert row is not None
    return int(row["id"])
