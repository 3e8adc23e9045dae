"""`/report WAVE REGION`: a region's scores through a survey's closed waves, in chat.

The pulse survey is answered twice by the same two people in Novgorod (everyone alike, so
every interval is a point and every change is sure) and one in Sverdlovsk, as in
tests/test_results_change.py, whose hand-worked scores these are.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import pytest

from bot.chat.report_series_view import ReportTopic, ReportWave, region_series_text
from bot.chat.texts import Texts
from bot.sandbox.fake_telegram import FakeTelegram
from surveys.aggregate import Cell, Estimate
from surveys.change import ChangeEstimate
from surveys.series import SeriesCell
from tests.harness import Citizen, RunningBot, add_respondents, make_settings, open_wave, start_bot
from tests.test_report_groups import all_replies
from tests.test_results_change import ELSEWHERE, FIRST, PEOPLE, SECOND, closed_pulse

ADMIN = 9200


@pytest.fixture
async def running(
    server: FakeTelegram, tmp_path: Path, bot_database_pass: str
) -> AsyncIterator[RunningBot]:
    running = await start_bot(make_settings(server, tmp_path, admin_ids=frozenset({ADMIN})))
    yield running  # the lines after yield run whatever the outcome of the test
    await running.stop()


async def test_a_region_through_the_waves(server: FakeTelegram, running: RunningBot) -> None:
    await add_respondents(running.app, PEOPLE)
    first = await closed_pulse(server, running, {5401: FIRST, 5402: FIRST, 5403: ELSEWHERE})
    second = await closed_pulse(server, running, {5401: SECOND, 5402: SECOND, 5403: ELSEWHERE})
    admin = Citizen(server, server.user(ADMIN, "Ольга"))
    zone = running.app.settings.zone

    async def day(wave_id: int) -> str:
        wave = await running.app.store.waves.get(wave_id)
        assert wave is not None
        return wave.ends_at.astimezone(zone).strftime("%d.%m.%Y")

    one, two = f"#{first} · {await day(first)}", f"#{second} · {await day(second)}"
    # The series, then the wave's situations and groups (tests/test_report_groups.py).
    text, _ = await all_replies(server, admin, f"/report {second} 49", 2)
    blocks = text.split("\n\n")
    assert blocks[0].startswith("<b>Новгородская область: как менялись оценки</b>")
    assert "в сравнении — 2 волны." in blocks[0]
    # Overall: (25 + 75 + 40) / 3 = 46.7, then (62.5 + 75 + 30) / 3 = 55.8, both people alike.
    assert blocks[1].splitlines() == [
        "<b>Общий индекс</b>",
        f"{one}: <b>46,7</b> (46,7–46,7), 2 участника",
        f"{two}: <b>55,8</b> (55,8–55,8), 2 участника",
        "Последняя волна — лучше, чем в прошлый раз: +9,2",
    ]
    by_topic = {block.splitlines()[0]: block.splitlines()[1:] for block in blocks[1:]}
    assert by_topic["<b>Госуслуги в целом</b>"][1:] == [
        f"{two}: <b>62,5</b> (62,5–62,5), 2 участника",
        "Последняя волна — лучше, чем в прошлый раз: +37,5",
    ]
    assert by_topic["<b>Здравоохранение</b>"][-1] == (
        "Последняя волна — без явных изменений с прошлого раза"
    )
    assert by_topic["<b>Жизнь в регионе</b>"][-1] == (
        "Последняя волна — хуже, чем в прошлый раз: −20,0"
    )
    # Nobody in Novgorod rated schools: no figure, no change, in either wave.
    assert by_topic["<b>Школы</b>"] == [
        f"{one}: слишком мало ответов",
        f"{two}: слишком мало ответов",
    ]

    # Bad input: one short reply each, and the same report afterwards.
    replies = {
        f"/report {second} 00": "Региона с кодом «00» нет в каталоге.",
        f"/report {second} <b>": "Региона с кодом «&lt;b&gt;» нет в каталоге.",
        f"/report {second} 05": "Из региона «Приморский край» в этих волнах ответов нет.",
        "/report 999999999999999999999 49": "Напишите номер волны и код региона",
        "/report 7 49 65": "Напишите номер волны и код региона",
        f"/report {second + 1} 49": f"Волны #{second + 1} нет.",
    }
    for command, expected in replies.items():
        assert expected in ((await admin.command(command)).raw_text or ""), command
    # The first wave has no earlier one to compare with, but its situations and groups
    # still follow: two messages, both awaited before the next command.
    alone, groups = await all_replies(server, admin, f"/report {first} 49", 2)
    assert "Сравнивать не с чем" in alone
    assert f"жизненные ситуации и группы, волна #{first}" in groups
    third = await open_wave(running.app, survey_id="pulse", regions=["49"])
    assert "ещё не закрыта" in ((await admin.command(f"/report {third} 49")).raw_text or "")
    assert (await all_replies(server, admin, f"/report {second} 49", 2))[0] == text


def _point(respondents: int, low: float | None, change: ChangeEstimate | None) -> SeriesCell:
    estimate = Estimate(62.25, low, None if low is None else 70.05, 0.5, respondents)
    cell = Cell(("49",), "all", "overall", respondents, False, estimate)
    return SeriesCell(1, ("49",), "all", "overall", True, False, cell, change)


def test_counts_take_their_plural_forms_in_both_languages() -> None:
    waves = [ReportWave(3, date(2026, 3, 15)), ReportWave(7, date(2026, 6, 1))]
    decline = ChangeEstimate(-4.25, -8.0, -0.05, "declined")
    line = [_point(21, 55.0, None), _point(1, None, decline)]
    english = region_series_text(
        "Pulse", "Novgorod", waves, [ReportTopic("Overall", line)], Texts("en")
    )
    assert english.splitlines()[1].startswith("“Pulse”, 2 waves compared.")
    assert english.splitlines()[3:] == [
        "<b>Overall</b>",
        "#3 · 15.03.2026: <b>62.3</b> (55.0–70.1), 21 respondents",  # 62.25 half up
        "#7 · 01.06.2026: <b>62.3</b>, 1 respondent",  # one person: no interval
        "Latest wave — worse than last time: −4.3",
    ]
    russian = region_series_text(
        "Пульс", "Новгород", waves, [ReportTopic("Всё", line)], Texts("ru")
    )
    assert "в сравнении — 2 волны." in russian
    assert "(55,0–70,1), 21 участник" in russian and "<b>62,3</b>, 1 участник" in russian
