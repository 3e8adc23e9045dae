"""Citizens' /actions: their region's and municipality's actions, by topic, escaped."""

from __future__ import annotations

from datetime import date

from bot.chat.actions_view import MAX_SHOWN, actions_text
from bot.chat.text_length import MAX_TEXT_LENGTH, visible_length
from bot.chat.texts import Texts
from bot.sandbox.fake_telegram import FakeTelegram
from surveys.actions import TITLE_LIMIT, Action, ActionDraft, checked
from tests.harness import Citizen, RunningBot, open_wave

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
