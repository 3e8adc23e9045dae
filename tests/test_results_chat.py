"""Results in chat: admins get the CSV files, the chart and the map; citizens their region."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.fake_telegram import FakeTelegram
from surveys.regions import BUNDLED_CATALOG_PATH
from tests.harness import Citizen, RunningBot, make_settings, open_wave, start_bot

ADMIN = 9100
PULSE_ANSWERS = {
    5001: ("Новгород", "Новгородская", "Великий Новгород", "18-24", ("5", "4", "3")),
    5002: ("Новгород", "Новгородская", None, "45-54", ("3", "2", "Пропустить")),
    5003: ("Свердлов", "Свердловская", "Екатеринбург", "25-30", ("1", "Пропустить", "2")),
}


@pytest.fixture
async def bot_with_admin(
    server: FakeTelegram, tmp_path: Path, bot_database_pass: str
) -> AsyncIterator[RunningBot]:
    running = await start_bot(make_settings(server, tmp_path, admin_ids=frozenset({ADMIN})))
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def bot_sending_answers(
    server: FakeTelegram, tmp_path: Path, bot_database_pass: str
) -> AsyncIterator[RunningBot]:
    """An operator who turned CHAT_EXPORT_ANSWERS on."""
    settings = make_settings(
        server, tmp_path, admin_ids=frozenset({ADMIN}), chat_export_answers=True
    )
    running = await start_bot(settings)
    try:
        yield running
    finally:
        await running.stop()


async def answered_pulse(server: FakeTelegram, running: RunningBot) -> int:
    wave = await open_wave(running.app, survey_id="pulse", regions=["49", "65"])
    for user_id, (query, region, municipality, age, first) in PULSE_ANSWERS.items():
        citizen = Citizen(server, server.user(user_id, f"Житель {user_id}"))
        await citizen.onboard(query, region, municipality, age)
        for label in (*first, "Не изменилась", "8", "Пропустить"):
            await citizen.tap(label)
        assert "Спасибо" in (citizen.last.text or "")
    return wave


async def test_by_default_the_chat_gets_the_ratings_but_never_the_answers(
    server: FakeTelegram, bot_with_admin: RunningBot
) -> None:
    wave = await answered_pulse(server, bot_with_admin)
    admin = Citizen(server, server.user(ADMIN, "Ольга"))
    admin.user.send_command(f"/export {wave}")
    notice = await server.wait_for_message(
        ADMIN, lambda message: "микроданные" in (message.text or "")
    )
    assert f"civicpulse export answers --wave {wave}" in (notice.text or "")
    documents = [m.document for m in admin.user.messages if m.document is not None]
    assert [document.filename for document in documents] == [f"ratings_wave{wave}.csv"]


async def test_admin_receives_both_csv_files_and_the_chart(
    server: FakeTelegram, bot_sending_answers: RunningBot
) -> None:
    wave = await answered_pulse(server, bot_sending_answers)
    admin = Citizen(server, server.user(ADMIN, "Ольга"))

    admin.user.send_command(f"/export {wave}")
    await server.wait_for(lambda: sum(m.document is not None for m in admin.user.messages) == 2)
    ratings, answers = [m.document for m in admin.user.messages if m.document is not None]
    assert ratings is not None and answers is not None
    assert ratings.content.startswith(b"\xef\xbb\xbf")  # Excel flavour: BOM and ';'
    header = ratings.text().splitlines()[0]
    assert header.startswith("wave_id;region_code;region_name;municipality_code")
    answer_lines = answers.text().splitlines()
    assert len(answer_lines) == 1 + 3 * 6
    assert not any(str(user_id) in answers.text() for user_id in PULSE_ANSWERS)

    admin.user.send_command(f"/report {wave}")
    await server.wait_for(lambda: any(m.photo is not None for m in admin.user.messages))
    photo = next(m.photo for m in admin.user.messages if m.photo is not None)
    assert photo is not None and photo.content.startswith(b"\x89PNG\r\n\x1a\n")


async def test_a_non_admin_cannot_export(server: FakeTelegram, bot_with_admin: RunningBot) -> None:
    await answered_pulse(server, bot_with_admin)
    citizen = Citizen(server, server.user(5001, "Житель"))
    reply = await citizen.command("/export 1")
    assert reply.document is None and "Не понял" in (reply.text or "")


async def test_citizens_see_their_region_after_the_wave_closes(
    server: FakeTelegram, bot_with_admin: RunningBot
) -> None:
    wave = await answered_pulse(server, bot_with_admin)
    citizen = Citizen(server, server.user(5001, "Житель"))
    before = await citizen.command("/results")
    assert "когда закроется опрос" in (before.text or "")

    await bot_with_admin.app.store.waves.transition(wave, ("open",), "closed")
    after = (await citizen.command("/results")).raw_text or ""
    assert "Новгородская область" in after
    # Scores: likert (x−1)/4·100, "no change" option 50, nps 8 → 80.
    # Public services, per respondent the mean of services_overall and the change question:
    #   5001 (5, same) → (100 + 50) / 2 = 75;  5002 (3, same) → (50 + 50) / 2 = 50;
    #   5003 in Sverdlovsk (1, same) → (0 + 50) / 2 = 25.
    #   Novgorod (75 + 50) / 2 = 62.5; whole wave (75 + 50 + 25) / 3 = 50.0.
    assert "<b>62,5</b> (50,0)" in after
    # Healthcare: Novgorod 4 → 75, 2 → 25: mean 50; 5003 skipped, so the wave is 50 too.
    assert "<b>50,0</b> (50,0)" in after
    # Schools: Novgorod only 5001 (3 → 50); the wave adds 5003 (2 → 25): 37.5.
    assert "<b>50,0</b> (37,5)" in after
    assert "Место региона: 1 из 2." in after


@pytest.fixture
async def bot_with_a_real_threshold(
    server: FakeTelegram, tmp_path: Path, bot_database_pass: str
) -> AsyncIterator[RunningBot]:
    """Groups need ten respondents, as in production: the three citizens never reach it."""
    settings = make_settings(server, tmp_path, admin_ids=frozenset({ADMIN}), min_cell_size=10)
    running = await start_bot(settings)
    yield running  # the lines after yield run whatever the outcome of the test
    await running.stop()


async def _pulse_report(server: FakeTelegram, running: RunningBot) -> tuple[int, Citizen]:
    """The pulse wave answered, then its /report asked for by the administrator."""
    wave = await answered_pulse(server, running)
    admin = Citizen(server, server.user(ADMIN, "Ольга"))
    admin.user.send_command(f"/report {wave}")
    return wave, admin


async def test_a_report_with_every_figure_withheld_says_why_in_words(
    server: FakeTelegram, bot_with_a_real_threshold: RunningBot
) -> None:
    wave, admin = await _pulse_report(server, bot_with_a_real_threshold)
    reply = await server.wait_for_message(ADMIN, lambda m: "порог" in (m.text or ""))
    # How many answers there are, and how many a group needs before it is shown.
    assert f"У волны #{wave} пока 3 ответа." in (reply.text or "")
    assert "не меньше порога — 10 ответов" in (reply.text or "")
    assert [m for m in admin.user.messages if m.photo or m.document] == []


async def test_the_report_sends_the_chart_and_the_map(
    server: FakeTelegram, bot_with_admin: RunningBot
) -> None:
    wave, admin = await _pulse_report(server, bot_with_admin)
    await server.wait_for(lambda: sum(m.photo is not None for m in admin.user.messages) == 2)
    chart, tile_map = [m.photo for m in admin.user.messages if m.photo is not None]
    assert chart is not None and chart.filename == f"report_wave{wave}.png"
    assert tile_map is not None and tile_map.filename == f"map_wave{wave}.png"
    assert tile_map.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert admin.user.messages[-1].caption == f"Карта индекса по регионам, волна #{wave}"


@pytest.mark.usefixtures("bot_database_pass")
async def test_a_catalog_without_a_tile_layout_gets_the_chart_and_says_there_is_no_map(
    server: FakeTelegram, tmp_path: Path
) -> None:
    catalog = tmp_path / "own" / "regions.yaml"
    catalog.parent.mkdir()
    shutil.copyfile(BUNDLED_CATALOG_PATH, catalog)  # no region_tiles.yaml beside it
    settings = make_settings(server, tmp_path, admin_ids=frozenset({ADMIN}), regions_file=catalog)
    running = await start_bot(settings)
    try:
        wave, admin = await _pulse_report(server, running)
        await server.wait_for_message(ADMIN, lambda m: "Карты нет" in (m.text or ""))
        photos = [m.photo.filename for m in admin.user.messages if m.photo is not None]
        assert photos == [f"report_wave{wave}.png"]
    finally:
        await running.stop()
