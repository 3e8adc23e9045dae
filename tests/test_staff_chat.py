"""Staff in chat: each role sees and does only what it may, for its regions only.

Every admin path is tried by a member of staff of another region, typed and with forged
buttons: each gets the usual short refusal, and the database is left as it was. Staff
are added the way `civicpulse staff add` adds them, through another connection while the
bot runs, so these tests also show that a change needs no restart.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.chat.callbacks import (
    AdminMenuCb,
    ResultsCb,
    WaveCancelCb,
    WaveStatsCb,
    WizardDistrictCb,
    WizardScopeCb,
)
from bot.sandbox.fake_telegram import ChatMessage, FakeTelegram, buttons
from bot.settings import Settings
from storage.connect import open_database
from storage.staff_changes import add_staff, remove_staff, staff_member
from storage.store import Store
from storage.wave_planning import WavePlan, create_wave
from surveys.regions import load_catalog
from tests.harness import (
    Citizen,
    RunningBot,
    add_respondents,
    make_settings,
    open_wave,
    start_bot,
    wait_until_sent,
    wave_state,
)
from tests.test_results_chat import answered_pulse

ADMIN = 900
NORTH = 7049  # regional: 49 Novgorod, 53 Orenburg
URALS = 7065  # regional: 65 Sverdlovsk
ANALYST = 7100  # analyst: 49
SURVEY = "Ежемесячный опрос о работе госуслуг"

#: Every test here starts the bot through `staff_bot`, on each database in turn.
pytestmark = pytest.mark.usefixtures("bot_database_pass")


@asynccontextmanager
async def another_process(settings: Settings) -> AsyncIterator[Store]:
    """The database as `civicpulse staff` opens it: its own connection, the bot running."""
    database = await open_database(settings)
    try:
        yield Store(database)
    finally:
        await database.close()


@asynccontextmanager
async def staff_bot(
    server: FakeTelegram, tmp_path: Path, **overrides: Any
) -> AsyncIterator[tuple[Settings, RunningBot]]:
    """The bot with ADMIN as federal staff (ADMIN_IDS), stopped however the test ends."""
    settings = make_settings(server, tmp_path, admin_ids={ADMIN}, **overrides)
    running = await start_bot(settings)
    try:
        yield settings, running
    finally:
        await running.stop()


async def grant(
    settings: Settings,
    telegram_id: int,
    role: str,
    regions: str | None,
    *,
    microdata: bool = False,
) -> None:
    """What `civicpulse staff add` does."""
    member = staff_member(telegram_id, role, regions, load_catalog(), microdata=microdata)
    async with another_process(settings) as store:
        await add_staff(store, member, admin_ids=settings.admin_ids, by="operator")


async def revoke(settings: Settings, telegram_id: int) -> None:
    """What `civicpulse staff remove` does."""
    async with another_process(settings) as store:
        await remove_staff(store, telegram_id, admin_ids=settings.admin_ids, by="operator")


async def planned(running: RunningBot, regions: Sequence[str] | None) -> int:
    """A wave starting in an hour, so nothing is sent while the test looks at it."""
    now = datetime.now(UTC)
    plan = WavePlan("pulse", now + timedelta(hours=1), now + timedelta(days=7), regions, "all")
    return await create_wave(running.app.store, running.app.surveys, plan)


async def planning_rows(running: RunningBot) -> list[tuple[object, ...]]:
    """Waves, their regions and states, and staff: what no refused action may change.

    Each table's rows are sorted: PostgreSQL returns rows in no set order, and may move a
    row that was written again with the same values."""
    rows = []
    for table in ("waves", "wave_regions", "staff", "invitations", "responses"):
        found = await running.app.database.fetch_all(f"SELECT * FROM {table}")
        rows += sorted((tuple(row) for row in found), key=repr)
    return rows


def labels(message: ChatMessage) -> list[str]:
    return [label for label, _ in buttons(message)]


def documents(member: Citizen) -> list[tuple[str, str]]:
    return [
        (m.document.filename, m.document.text())
        for m in member.user.messages
        if m.document is not None
    ]


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


async def test_a_regional_member_plans_waves_for_their_regions_only(
    server: FakeTelegram, tmp_path: Path
) -> None:
    async with staff_bot(server, tmp_path) as (settings, running):
        await grant(settings, NORTH, "regional", "49,53")
        member = Citizen(server, server.user(NORTH, "Анна"))
        menu = await member.command("/admin")
        yours = "49 Новгородская область, 53 Оренбургская область"
        assert f"региональная команда; регионы: {yours}" in (menu.text or "")
        await member.tap("Новая волна")
        scopes = await member.tap(SURVEY)
        assert labels(scopes) == ["Все мои регионы", "Выбрать регионы"]
        ask = await member.tap("Выбрать регионы")
        assert f"Ваши регионы: {yours}." in (ask.text or "")
        assert "вне вашего доступа: 65" in ((await member.say("49, 65")).text or "")
        assert "вне вашего доступа: all" in ((await member.say("all")).text or "")
        assert "Какие треки" in ((await member.say("53")).text or "")
        for step in ("Все", "Сейчас", "+7 дней", "Не напоминать", "Создать"):
            await member.tap(step)

        await member.command("/admin")
        await member.tap("Новая волна")
        await member.tap(SURVEY)
        await member.tap("Все мои регионы")
        for step in ("Все", "Сейчас", "+7 дней"):
            await member.tap(step)
        assert f"Регионы: {yours}" in ((await member.tap("Не напоминать")).text or "")
        await member.tap("Создать")

        waves = await running.app.store.waves.all()
        assert [(w.regions, w.all_regions, w.created_by) for w in waves] == [
            (("53",), False, NORTH),
            (("49", "53"), False, NORTH),
        ]
        created = [e for e in await running.app.store.audit.recent() if e.action == "wave.create"]
        assert sorted((e.actor, e.role, e.regions) for e in created) == [
            (str(NORTH), "regional", "49,53"),
            (str(NORTH), "regional", "53"),
        ]


async def test_a_member_of_another_region_sees_nothing_of_a_wave_and_changes_nothing(
    server: FakeTelegram, tmp_path: Path
) -> None:
    async with staff_bot(server, tmp_path, chat_export_answers=True) as (settings, running):
        north = await planned(running, ["49", "53"])
        national = await planned(running, None)
        urals = await planned(running, ["65"])
        await grant(settings, URALS, "regional", "65")
        member = Citizen(server, server.user(URALS, "Борис"))
        before = await planning_rows(running)
        absent = f"Волны #{north} нет."

        listing = await member.command("/waves")
        shown = listing.text or ""
        assert f"#{urals}" in shown and f"#{national}" in shown and f"#{north}" not in shown
        assert f"✖ Отменить #{urals}" in labels(listing)
        assert f"✖ Отменить #{national}" not in labels(listing)  # not theirs to cancel
        assert (await member.command("/stats 999")).text == "Волны #999 нет."
        for command in ("/stats", "/export", "/report"):
            offered = " ".join(labels(await member.command(command)))
            assert f"#{urals}" in offered and f"#{north}" not in offered
            assert (await member.command(f"{command} {north}")).text == absent

        screen = listing.message_id
        assert await member.press_data(screen, WaveStatsCb(wave=north).pack()) == absent
        for step in ("ask", "yes", "no"):
            forged = WaveCancelCb(wave=north, step=step).pack()
            assert await member.press_data(screen, forged) == absent
            forged = WaveCancelCb(wave=national, step=step).pack()
            assert await member.press_data(screen, forged) == "Это вне вашего доступа."
        for kind in ("export", "report"):
            member.user.press(screen, ResultsCb(wave=north, kind=kind).pack())
            assert (await server.wait_for_message(URALS)).text == absent

        await member.command("/admin")
        assert f"#{north}" not in ((await member.tap("Волны")).text or "")
        await member.command("/admin")
        await member.tap("Новая волна")
        scopes = await member.tap(SURVEY)
        for forged in (WizardScopeCb(scope="all"), WizardScopeCb(scope="district")):
            answer = await member.press_data(scopes.message_id, forged.pack())
            assert answer == "Это вне вашего доступа."
        await member.tap("Выбрать регионы")
        assert "вне вашего доступа: 49" in ((await member.say("49")).text or "")

        assert await planning_rows(running) == before
        assert [await wave_state(running.app, w) for w in (north, national)] == ["scheduled"] * 2
        assert documents(member) == []


async def test_a_member_narrowed_half_way_through_the_wizard_creates_nothing_outside(
    server: FakeTelegram, tmp_path: Path
) -> None:
    """Regions are checked against the member's record at the time of each press."""
    async with staff_bot(server, tmp_path) as (settings, running):
        member = Citizen(server, server.user(NORTH, "Анна"))
        await grant(settings, NORTH, "federal", None)
        await member.command("/admin")
        await member.tap("Новая волна")
        await member.tap(SURVEY)
        districts = await member.tap("Федеральный округ")
        await grant(settings, NORTH, "regional", "49")
        northwest = WizardDistrictCb(district=1).pack()  # holds 49, and others
        assert await member.press_data(districts.message_id, northwest) == "Это вне вашего доступа."

        await grant(settings, NORTH, "federal", None)
        await member.command("/admin")
        await member.tap("Новая волна")
        await member.tap(SURVEY)
        await member.tap("Все регионы")
        for step in ("Все", "Сейчас", "+7 дней", "Не напоминать"):
            await member.tap(step)
        await grant(settings, NORTH, "regional", "49")
        assert (await member.tap("Создать")).text == "Это вне вашего доступа."
        assert await running.app.store.waves.all() == []


async def test_a_national_wave_shows_a_regional_member_their_part(
    server: FakeTelegram, tmp_path: Path
) -> None:
    async with staff_bot(server, tmp_path) as (settings, running):
        regions = ["49"] * 3 + ["53"] + ["65"] * 3
        people = [(8000 + n, region, "45-54") for n, region in enumerate(regions)]
        await add_respondents(running.app, people)
        wave = await open_wave(running.app, "pulse")
        await wait_until_sent(running.app, wave)
        await grant(settings, NORTH, "regional", "49,53")
        member = Citizen(server, server.user(NORTH, "Анна"))
        admin = Citizen(server, server.user(ADMIN, "Админ"))

        theirs = (await member.command(f"/stats {wave}")).text or ""
        assert "Приглашено: 4" in theirs
        assert "49 Новгородская область: 3 / 3" in theirs
        assert "53 Оренбургская область: 1 / 1" in theirs
        assert "65" not in theirs.split("По регионам")[1]
        assert "приглашено 4," in ((await member.command("/waves")).text or "")
        assert "Приглашено: 7" in ((await admin.command(f"/stats {wave}")).text or "")
        stats = [e for e in await running.app.store.audit.recent() if e.actor == str(NORTH)]
        assert [(e.role, e.regions) for e in stats][-1] == ("regional", "49,53")


async def test_an_analyst_reads_results_but_plans_and_cancels_nothing(
    server: FakeTelegram, tmp_path: Path
) -> None:
    async with staff_bot(server, tmp_path, chat_export_answers=True) as (settings, running):
        wave = await answered_pulse(server, running)  # regions 49 and 65
        await grant(settings, ANALYST, "analyst", "49")
        analyst = Citizen(server, server.user(ANALYST, "Вера"))
        menu = await analyst.command("/admin")
        assert "аналитик, только просмотр" in (menu.text or "")
        assert labels(menu) == ["📋 Волны"]
        stale = await analyst.press_data(menu.message_id, "zz:1")
        assert await analyst.press_data(menu.message_id, AdminMenuCb(action="new").pack()) == stale
        listing = await analyst.command("/waves")
        assert not any("Отменить" in label for label in labels(listing))
        forged = WaveCancelCb(wave=wave, step="yes").pack()
        assert await analyst.press_data(listing.message_id, forged) == "Это вне вашего доступа."
        assert await wave_state(running.app, wave) == "open"

        analyst.user.send_command(f"/export {wave}")
        refused = await server.wait_for_message(ANALYST, lambda m: "не входит" in (m.text or ""))
        assert "микроданные" in (refused.text or "")
        assert [name for name, _ in documents(analyst)] == [f"ratings_wave{wave}.csv"]

        # Granted the answers file while the bot runs: the next /export includes it.
        await grant(settings, ANALYST, "analyst", "49", microdata=True)
        analyst.user.send_command(f"/export {wave}")
        await server.wait_for(lambda: len(documents(analyst)) == 3)
        answers = csv_rows(documents(analyst)[2][1])
        assert {row["region_code"] for row in answers} == {"49"} and len(answers) == 2 * 6


async def test_no_waves_invites_to_create_one_only_those_who_may(
    server: FakeTelegram, tmp_path: Path
) -> None:
    async with staff_bot(server, tmp_path) as (settings, running):
        await planned(running, ["65"])  # nothing in region 49
        await grant(settings, ANALYST, "analyst", "49")
        await grant(settings, NORTH, "regional", "49")
        analyst = Citizen(server, server.user(ANALYST, "Вера"))
        north = Citizen(server, server.user(NORTH, "Олег"))
        for command in ("/waves", "/stats", "/report"):
            assert (await analyst.command(command)).text == "Волн в ваших регионах пока нет."
        assert (await north.command("/waves")).text == "Волн пока нет. Создать: /admin."


async def test_the_report_across_waves_knows_no_region_outside_ones_own(
    server: FakeTelegram, tmp_path: Path
) -> None:
    """A wave of 49 and 65, seen by a member for 49 and 53: 65 reads as a code the catalog
    lacks, while 49 passes the check and meets the next one (the wave is still open)."""
    async with staff_bot(server, tmp_path) as (settings, running):
        wave = await open_wave(running.app, survey_id="pulse", regions=["49", "65"])
        await grant(settings, NORTH, "regional", "49,53")
        north = Citizen(server, server.user(NORTH, "Олег"))
        before = await planning_rows(running)
        outside = await north.command(f"/report {wave} 65")
        assert outside.text == "Региона с кодом «65» нет в каталоге."
        assert (await north.command(f"/report {wave} 99")).text == outside.text.replace("65", "99")
        mine = await north.command(f"/report {wave} 49")
        assert mine.text == f"Волна #{wave} ещё не закрыта: по волнам сравниваются только закрытые."
        assert await planning_rows(running) == before


async def test_a_regional_export_is_the_full_files_rows_of_their_regions(
    server: FakeTelegram, tmp_path: Path
) -> None:
    async with staff_bot(server, tmp_path, chat_export_answers=True) as (settings, running):
        wave = await answered_pulse(server, running)
        await grant(settings, URALS, "regional", "65")
        files = {}
        for user_id in (ADMIN, URALS):
            member = Citizen(server, server.user(user_id))
            member.user.send_command(f"/export {wave}")
            await server.wait_for(lambda member=member: len(documents(member)) == 2)
            files[user_id] = [csv_rows(text) for _, text in documents(member)]
        (full_ratings, full_answers), (ratings, answers) = files[ADMIN], files[URALS]

        assert {row["region_code"] for row in full_ratings} == {"49", "65"}
        assert ratings == [row for row in full_ratings if row["region_code"] == "65"]
        # The rank is the national one: Sverdlovsk is second of two, not first of one.
        overall = [row for row in ratings if (row["track"], row["topic"]) == ("all", "overall")]
        assert [row["rank"] for row in overall] == ["2"]
        assert answers == [row for row in full_answers if row["region_code"] == "65"]
        assert len(answers) == 6


async def test_a_regional_report_counts_only_their_regions_answers(
    server: FakeTelegram, tmp_path: Path
) -> None:
    async with staff_bot(server, tmp_path, min_cell_size=10) as (settings, running):
        wave = await answered_pulse(server, running)  # two answers in 49, one in 65
        await grant(settings, URALS, "regional", "65")
        for user_id, answers in ((ADMIN, "3 ответа"), (URALS, "1 ответ")):
            member = Citizen(server, server.user(user_id))
            reply = await member.command(f"/report {wave}")
            assert f"У волны #{wave} пока {answers}." in (reply.text or "")


async def test_staff_changes_apply_to_a_running_bot_and_are_audited(
    server: FakeTelegram, tmp_path: Path
) -> None:
    async with staff_bot(server, tmp_path) as (settings, running):
        member = Citizen(server, server.user(NORTH, "Анна"))
        unknown = (await member.command("/admin")).text
        assert "Администрирование" not in (unknown or "")
        await grant(settings, NORTH, "regional", "49")
        assert "➕ Новая волна" in labels(await member.command("/admin"))
        await grant(settings, NORTH, "analyst", "49")
        assert labels(await member.command("/admin")) == ["📋 Волны"]
        await revoke(settings, NORTH)
        assert (await member.command("/admin")).text == unknown

        entries = [
            (e.source, e.actor, e.action, e.regions) for e in await running.app.store.audit.recent()
        ]
        assert ("cli", "operator", "staff.add", "49") in entries
        assert ("cli", "operator", "staff.change", "49") in entries
        assert ("cli", "operator", "staff.remove", "49") in entries
        chat = [e for e in await running.app.store.audit.recent() if e.source == "chat"]
        assert [(e.actor, e.role) for e in chat] == [
            (str(NORTH), "analyst"),
            (str(NORTH), "regional"),
        ]
