"""The groups the programme puts first: the optional profile questions, the disability
question's own consent, /mydata, erasure of the flag to the last byte, snapshots that a
later change does not move, and waves aimed at groups.

Through the real bot and the fake Bot API, on each database in turn; the bytes an erasure
leaves behind are looked for in the SQLite file itself.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.sandbox.fake_telegram import FakeTelegram, buttons
from storage.result_files import write_answers_csv
from storage.wave_planning import WavePlan, create_wave
from surveys.profile_groups import parse_segments, segments_of
from tests.commands import run_civicpulse
from tests.harness import (
    Citizen,
    Groups,
    RunningBot,
    add_respondents,
    open_wave,
    wait_until_sent,
    wave_messages,
)
from tests.test_resume_and_privacy import (
    IN_THE_SQLITE_FILES,
    database_files,
    erase,
    traces_found,
)

PULSE_PLAN = {
    "services_overall": 4,
    "healthcare_month": None,
    "schools_month": None,
    "change_since_last_month": "same",
    "recommend_region": 7,
    "comment": None,
}


async def profile_row(running: RunningBot, telegram_id: int) -> dict[str, Any]:
    row = await running.app.database.fetch_one(
        "SELECT children, disability, disability_consent_at, settlement FROM respondents"
        " WHERE telegram_id = ?",
        (telegram_id,),
    )
    assert row is not None
    return dict(row)


async def snapshot(running: RunningBot, wave_id: int, telegram_id: int) -> tuple[Any, ...]:
    row = await running.app.database.fetch_one(
        "SELECT s.children, s.disability, s.settlement FROM responses s"
        " JOIN respondents p ON p.id = s.respondent_id WHERE s.wave_id = ? AND p.telegram_id = ?",
        (wave_id, telegram_id),
    )
    assert row is not None
    return tuple(row)


async def test_declining_the_disability_consent_stores_nothing_for_it(
    server: FakeTelegram, running: RunningBot
) -> None:
    await open_wave(running.app, survey_id="pulse", regions=["49"])
    citizen = Citizen(server, server.user(6101, "Нина"))
    groups = Groups(children="yes", disability=None, settlement="village")
    await citizen.onboard("Новгород", "Новгородская", None, "36-44", groups)

    assert await profile_row(running, 6101) == {
        "children": "yes",
        "disability": None,
        "disability_consent_at": None,
        "settlement": "village",
    }
    mine = (await citizen.command("/mydata")).text or ""
    assert "Дети до 18 лет в семье: Да" in mine
    assert "о ком вы заботитесь: не указано" in mine
    assert "На вопрос об инвалидности: не давали" in mine
    assert "Где вы живёте: Село, деревня" in mine


async def test_a_skipped_question_stores_nothing_and_prefer_not_to_say_is_kept(
    server: FakeTelegram, running: RunningBot
) -> None:
    await open_wave(running.app, survey_id="pulse", regions=["49"])
    skipper = Citizen(server, server.user(6102, "Олег"))
    await skipper.onboard("Новгород", "Новгородская", None, "36-44")
    assert set((await profile_row(running, 6102)).values()) == {None}

    reticent = Citizen(server, server.user(6103, "Ада"))
    await reticent.onboard(
        "Новгород", "Новгородская", None, "36-44", Groups(disability="undisclosed")
    )
    row = await profile_row(running, 6103)
    assert (row["children"], row["disability"], row["settlement"]) == ("undisclosed",) * 3
    assert row["disability_consent_at"] is not None


async def test_a_pressed_answer_to_a_question_not_on_screen_is_refused(
    server: FakeTelegram, running: RunningBot
) -> None:
    citizen = Citizen(server, server.user(6104, "Лев"))
    await citizen.command("/start")
    await citizen.tap("Согласен")
    await citizen.tap("Русский")
    await citizen.say("Новгород")
    await citizen.tap("Новгородская")
    await citizen.tap("Другой / не знаю")
    children = await citizen.tap("45–54 года")
    # The disability answer without its consent, and an answer that is not the question's.
    for forged in ("pg:disability:yes", "pg:children:village"):
        popup = await citizen.press_data(children.message_id, forged)
        assert "устарела" in popup
    assert set((await profile_row(running, 6104)).values()) == {None}


async def answered_with_the_flag(server: FakeTelegram, running: RunningBot) -> tuple[Citizen, int]:
    """A citizen who declared a disability and answered a wave, so that the flag sits both
    in their profile and in their response; returns them and the wave."""
    app = running.app
    wave = await open_wave(app, survey_id="pulse", regions=["49"])
    citizen = Citizen(server, server.user(6105, "Вера"))
    groups = Groups(children="no", disability="yes", settlement="village")
    await citizen.onboard("Новгород", "Новгородская", None, "65+", groups)
    await citizen.complete(app.surveys["pulse"].survey, PULSE_PLAN)
    return citizen, wave


async def test_the_disability_flag_is_shown_to_its_owner_then_erased(
    server: FakeTelegram, running: RunningBot
) -> None:
    app = running.app
    citizen, wave = await answered_with_the_flag(server, running)
    consent_at = (await profile_row(running, 6105))["disability_consent_at"]
    assert consent_at is not None
    assert await snapshot(running, wave, 6105) == ("no", "yes", "village")

    mine = (await citizen.command("/mydata")).text or ""
    assert "о ком вы заботитесь: Да" in mine
    assert f"На вопрос об инвалидности: {consent_at[:10]} {consent_at[11:16]} UTC" in mine
    assert "Начатые опросы: 1 опрос, из них завершены: 1" in mine
    assert "Ответы на вопросы: 6 ответов" in mine

    # The answers file (microdata) never carries the flag.
    target = io.BytesIO()
    await write_answers_csv(app.database, wave, target, key=b"k" * 32)
    header = next(csv.reader(io.StringIO(target.getvalue().decode("utf-8"))))
    assert not {"disability", "disability_consent_at"} & set(header)

    await erase(citizen)
    flagged = await app.database.fetch_all(
        "SELECT disability FROM respondents WHERE disability IS NOT NULL"
        " UNION ALL SELECT disability FROM responses WHERE disability IS NOT NULL"
    )
    assert flagged == []


@IN_THE_SQLITE_FILES
async def test_the_erased_disability_flag_leaves_no_byte_in_the_files(
    server: FakeTelegram, running: RunningBot
) -> None:
    citizen, _ = await answered_with_the_flag(server, running)
    consent_at = (await profile_row(running, 6105))["disability_consent_at"]
    files = database_files(running.app)
    # A record keeps a row's columns side by side: the profile's flag beside its consent
    # time, and the response's copy between the children and settlement answers.
    traces = {
        "profile flag": b"yes" + consent_at.encode(),
        "consent time": consent_at.encode(),
        "response flag": b"noyesvillage",
    }
    assert {name.split(" in ")[0] for name in traces_found(files, traces)} == set(traces)

    await erase(citizen)
    assert traces_found(files, traces) == set()
    assert files[1].stat().st_size == 0


async def test_withdrawing_the_consent_erases_the_flag_from_profile_and_responses(
    server: FakeTelegram, running: RunningBot
) -> None:
    wave = await open_wave(running.app, survey_id="pulse", regions=["49"])
    citizen = Citizen(server, server.user(6106, "Роза"))
    groups = Groups(children="yes", disability="yes", settlement="city")
    await citizen.onboard("Новгород", "Новгородская", None, "45-54", groups)
    assert await snapshot(running, wave, 6106) == ("yes", "yes", "city")

    await citizen.command("/profile")
    await citizen.tap("Семья, здоровье, место жительства")
    await citizen.tap("Да")
    await citizen.tap("Нет, не спрашивать")
    summary = await citizen.tap("Город")
    assert "о ком вы заботитесь: не указано" in (summary.text or "")
    row = await profile_row(running, 6106)
    assert (row["disability"], row["disability_consent_at"]) == (None, None)
    assert await snapshot(running, wave, 6106) == ("yes", None, "city")


async def test_a_change_applies_to_responses_started_afterwards_only(
    server: FakeTelegram, running: RunningBot
) -> None:
    app = running.app
    before = await open_wave(app, survey_id="pulse", regions=["49"])
    citizen = Citizen(server, server.user(6107, "Глеб"))
    groups = Groups(children="yes", disability=None, settlement="town")
    await citizen.onboard("Новгород", "Новгородская", None, "36-44", groups)
    await citizen.tap("4")  # the first wave's response has started

    after = await open_wave(app, survey_id="social_services", regions=["49"])
    await wait_until_sent(app, after)  # its invitation is in the chat before the menu
    menu = await citizen.command("/profile")
    assert "Дети до 18 лет в семье: Да" in (menu.text or "")
    await citizen.tap("Семья, здоровье, место жительства")
    await citizen.tap("Нет")
    await citizen.tap("Нет, не спрашивать")
    await citizen.tap("Село, деревня")
    await citizen.tap("Всё верно")
    await citizen.tap("Качество государственных")

    assert await snapshot(running, before, 6107) == ("yes", None, "town")
    assert await snapshot(running, after, 6107) == ("no", None, "village")


def test_segment_ids_are_checked_and_kept_in_one_order() -> None:
    assert parse_segments(" disability ,families_with_children,disability") == (
        "families_with_children",
        "disability",
    )
    for wrong in ("", "families", "village,disabled"):
        try:
            parse_segments(wrong)
        except ValueError as error:
            assert "families_with_children, elderly, disability, village" in str(error)
        else:
            raise AssertionError(f"{wrong!r} was accepted")
    assert segments_of({"age_band": "65+", "children": "undisclosed"}) == {"elderly"}


async def test_an_aimed_wave_invites_only_its_segments_with_the_ordinary_text(
    server: FakeTelegram, running: RunningBot
) -> None:
    app = running.app
    people = [
        (6201, "children", "yes"),  # families_with_children: invited
        (6202, "children", "no"),
        (6203, "children", "undisclosed"),
        (6204, "disability", "yes"),  # disability: invited
        (6205, "disability", "undisclosed"),
        (6206, "settlement", "village"),  # village, not aimed at
    ]
    await add_respondents(app, [(telegram_id, "49", "45-54") for telegram_id, _, _ in people])
    await add_respondents(app, [(6207, "49", "65+")])  # elderly, not aimed at
    for telegram_id, question, answer in people:
        if question == "disability":
            await app.store.respondents.consent_to_disability_question(telegram_id)
            assert await app.store.respondents.record_disability(telegram_id, answer)
        else:
            await app.store.respondents.update_profile(telegram_id, **{question: answer})

    now = datetime.now(UTC)
    start, end = now - timedelta(seconds=1), now + timedelta(days=7)
    segments = parse_segments("families_with_children,disability")
    aimed = await create_wave(
        app.store,
        app.surveys,
        WavePlan("pulse", start, end, None, "all", segments=segments),
    )
    everyone = await create_wave(app.store, app.surveys, WavePlan("pulse", start, end, None, "all"))
    await app.scheduler.sweep()
    await wait_until_sent(app, aimed)
    await wait_until_sent(app, everyone)

    invited = Counter(request.params["chat_id"] for request in wave_messages(server, aimed))
    assert invited == {6201: 1, 6204: 1}
    assert len(wave_messages(server, everyone)) == 7

    def text_to(wave_id: int, chat_id: int) -> str:
        (request,) = [r for r in wave_messages(server, wave_id) if r.params["chat_id"] == chat_id]
        return str(request.params["text"])

    assert text_to(aimed, 6204) == text_to(everyone, 6204)

    # /survey offers the aimed wave to its segments only.
    outsider = await Citizen(server, server.user(6202)).command("/survey")
    member = await Citizen(server, server.user(6201)).command("/survey")
    assert f"sw:{aimed}" not in {data for _, data in buttons(outsider)}
    assert f"sw:{aimed}" in {data for _, data in buttons(member)}


@pytest.mark.usefixtures("bot_database_pass")
def test_the_command_line_aims_a_wave_and_refuses_unknown_segments(tmp_path: Path) -> None:
    create = ["wave", "create", "--survey", "pulse", "--start", "now", "--end", "+1d"]
    refused = run_civicpulse(tmp_path, *create, "--segments", "families_with_children,pensioners")
    assert refused.returncode == 1
    assert "unknown segment(s): pensioners" in refused.stderr
    assert run_civicpulse(tmp_path, "wave", "list").stdout.strip() == "no waves yet"

    created = run_civicpulse(tmp_path, *create, "--segments", "village,elderly")
    assert created.returncode == 0, created.stderr
    listing = run_civicpulse(tmp_path, "wave", "list").stdout
    assert "all / all / elderly,village" in listing
    stats = run_civicpulse(tmp_path, "wave", "stats", created.stdout.strip()).stdout
    assert "aimed at: elderly, village" in stats
