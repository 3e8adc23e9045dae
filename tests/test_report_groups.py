"""`/report WAVE REGION`, second message: a region's life situations and groups' gaps.

One closed wave of the situations test survey (tests/test_situations_export.py), MIN_CELL 3.
Novgorod (49): eight people, the first four with children. Satisfaction 1, 2, 2, 3 for the
families (0, 25, 25, 50: mean 25) and 4, 5, 5, 4 for the rest (mean 87.5), so the
situation's score is 450 / 8 = 56.25; months 2, 3, 4, 4, 5, 6, 7, 12 → median 4.5, q1 3.5,
q3 6.5; got what they needed 5 of 8. Sverdlovsk (65): three people, only two gave months
or said whether they got what they needed, so only the score shows. Moscow (45): two people,
too few for anything.
"""

from __future__ import annotations

import io
import math
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.chat.text_length import MAX_TEXT_LENGTH, visible_length
from bot.sandbox.fake_telegram import FakeTelegram
from storage.result_files import write_segments_csv
from surveys.aggregate import t_quantile
from surveys.figures import format_figure
from tests.harness import Citizen, RunningBot, make_settings, start_bot
from tests.test_segments import _parse, set_groups
from tests.test_situations_export import MIN_CELL, Z, _survey, _wave
from tests.test_situations_export import Person as Lived
from tests.test_staff_chat import grant

ADMIN = 9300
REGIONAL = 9301
SATISFACTION = (1, 2, 2, 3, 4, 5, 5, 4)
MONTHS = (2, 3, 4, 4, 5, 6, 7, 12)
NEEDED = ("yes", "yes", "no", "partly", "yes", "yes", "no", "yes")
PEOPLE = [
    *(
        Lived("49", s, m, f"needed_{n}")
        for s, m, n in zip(SATISFACTION, MONTHS, NEEDED, strict=True)
    ),
    Lived("65", 3, 1, "needed_yes"),
    Lived("65", 4, 2, "needed_no"),
    Lived("65", 5, None, None),
    Lived("45", 5, 1, "needed_yes"),
    Lived("45", 4, 2, "needed_yes"),
]


@pytest.fixture
async def running(
    server: FakeTelegram, tmp_path: Path, bot_database_pass: str
) -> AsyncIterator[RunningBot]:
    settings = make_settings(server, tmp_path, admin_ids={ADMIN}, min_cell_size=MIN_CELL)
    running = await start_bot(settings)
    yield running  # the lines after yield run whatever the outcome of the test
    await running.stop()


async def situations_wave(running: RunningBot) -> int:
    database = running.app.store.database
    wave_id = await _wave(database, _survey(1), PEOPLE, 7000)
    rows = await database.fetch_all(
        "SELECT id FROM responses WHERE wave_id = ? ORDER BY id LIMIT 4", (wave_id,)
    )
    for (response_id,) in rows:
        await set_groups(database, response_id, children="yes")
    return wave_id


async def all_replies(server: FakeTelegram, user: Citizen, command: str, count: int) -> list[str]:
    """The `count` messages a command is answered with, in order."""
    before = len(user.user.messages)
    user.user.send_command(command)
    await server.wait_for(lambda: len(user.user.messages) >= before + count)
    return [message.raw_text or "" for message in user.user.messages[before:]]


def _figure(value: float) -> str:
    return format_figure(value, decimal=",")


async def test_situations_and_groups_of_a_region(server: FakeTelegram, running: RunningBot) -> None:
    wave = await situations_wave(running)
    admin = Citizen(server, server.user(ADMIN, "Ольга"))
    series, text = await all_replies(server, admin, f"/report {wave} 49", 2)
    assert series.startswith("Сравнивать не с чем")  # the survey's first closed wave
    scores = [(x - 1) / 4 * 100 for x in SATISFACTION]
    mean = sum(scores) / 8
    half = t_quantile(0.975, 7) * math.sqrt(sum((s - mean) ** 2 for s in scores) / 7 / 8)
    p = 5 / 8
    centre, spread = p + Z**2 / 16, Z * math.sqrt(p * (1 - p) / 8 + Z**2 / 256)
    low, high = (centre - spread) / (1 + Z**2 / 8), (centre + spread) / (1 + Z**2 / 8)
    target = io.BytesIO()
    await write_segments_csv(running.app.store.database, wave, target, min_cell_size=MIN_CELL)
    row = next(
        r
        for r in _parse(target.getvalue())
        if r[1] == "49" and r[5:8] == ["all", "overall", "families_with_children"]
    )
    score_interval = f"{_figure(mean - half)}–{_figure(mean + half)}"
    share_interval = f"{_figure(low * 100)}–{_figure(high * 100)}"
    gap = " … ".join(f"−{x[1:]}".replace(".", ",") for x in row[15:17])
    assert text.split("\n\n")[1:] == [
        "\n".join(
            [
                "<b>Жизненные ситуации</b>",
                "<b>Поиск работы</b>",
                f"Оценка — <b>56,3</b> ({score_interval}), 8 участников",
                f"Получили то, за чем обращались, — 62,5% ({share_interval})",
                "Медиана — 4,5 месяца (3,5–6,5)",
            ]
        ),
        "\n".join(
            [
                "<b>Группы</b> — общий индекс группы против остальных жителей региона",
                f"Семьи с детьми: <b>25,0</b> против 87,5 у остальных, разница −62,5 ({gap}) — "
                "хуже остальных",
                "Старшие, 65+: слишком мало ответов",
                "Люди с инвалидностью: слишком мало ответов",
                "Жители сёл: слишком мало ответов",
            ]
        ),
    ]
    assert text.startswith("<b>Новгородская область: жизненные ситуации и группы, волна #")
    assert row[17] == "worse_off" and row[14] == "-62.5"

    # Sverdlovsk: only the score is shown; Moscow: nothing at all.
    _, sverdlovsk = await all_replies(server, admin, f"/report {wave} 65", 2)
    assert "<b>Поиск работы</b>\nОценка — <b>75,0</b> (" in sverdlovsk
    assert "Медиана" not in sverdlovsk and "Получили" not in sverdlovsk
    assert "Семьи с детьми: слишком мало ответов" in sverdlovsk
    _, moscow = await all_replies(server, admin, f"/report {wave} 45", 2)
    assert "<b>Поиск работы</b>: слишком мало ответов" in moscow
    assert "<b>" not in moscow.split("Группы")[1]

    # A member of staff for Sverdlovsk: Novgorod is as unknown as a region outside the catalog.
    await grant(running.app.settings, REGIONAL, "regional", "65")
    member = Citizen(server, server.user(REGIONAL, "Пётр"))
    refused = await member.command(f"/report {wave} 49")
    assert refused.raw_text == "Региона с кодом «49» нет в каталоге."
    _, theirs = await all_replies(server, member, f"/report {wave} 65", 2)
    assert theirs == sverdlovsk


async def test_english_and_plurals(server: FakeTelegram, running: RunningBot) -> None:
    wave = await situations_wave(running)
    admin = Citizen(server, server.user(ADMIN, "Olga", language_code="en"))
    _, text = await all_replies(server, admin, f"/report {wave} 49", 2)
    assert "<b>Life situations</b>\n<b>Finding a job</b>\nScore: <b>56.3</b> (" in text
    assert ", 8 respondents\nGot what they needed: 62.5% (" in text
    assert "\nMedian: 4.5 months (3.5–6.5)\n" in text
    assert "Families with children: <b>25.0</b> against 87.5 for the rest, a gap of −62.5 (" in text
    assert text.endswith("Village residents: too few answers")
    assert visible_length(text) <= MAX_TEXT_LENGTH


def test_units_take_their_plural_forms() -> None:
    from bot.chat.texts import unit_noun

    assert [unit_noun(n, "months", "ru") for n in (1, 2, 4.5, 5, 11, 21)] == [
        "месяц",
        "месяца",
        "месяца",
        "месяцев",
        "месяцев",
        "месяц",
    ]
    assert [unit_noun(n, "visits", "en") for n in (1, 1.5, 2)] == ["visit", "visits", "visits"]


async def test_citizens_hear_how_people_in_their_situation_rated_it(
    server: FakeTelegram, running: RunningBot
) -> None:
    await situations_wave(running)
    novgorod = Citizen(server, server.user(7000, "Анна"))  # the first person of PEOPLE
    text = (await novgorod.command("/results")).raw_text or ""
    assert text.endswith(
        "\n\nЛюди в вашей ситуации («Поиск работы») в вашем регионе оценили её на "
        "<b>56,3</b> из 100."
    )
    # Sverdlovsk's region is hidden in the ratings (beside Moscow's), not its situation.
    await running.app.store.database.execute(
        "UPDATE respondents SET language = 'en' WHERE telegram_id = 7008"
    )
    sverdlovsk = Citizen(server, server.user(7008, "Ivan", language_code="en"))
    text = (await sverdlovsk.command("/results")).raw_text or ""
    assert text.endswith(
        "\n\nPeople in your situation (“Finding a job”) in your region rated it "
        "<b>75.0</b> out of 100."
    )
    # Moscow's two people are too few: not a word about the situation.
    moscow = (await Citizen(server, server.user(7011, "Олег")).command("/results")).raw_text
    assert moscow is not None and "ситуации" not in moscow
