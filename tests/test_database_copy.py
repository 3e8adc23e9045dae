"""`civicpulse db copy --to postgresql://…`: a pilot's SQLite data moves into an empty
PostgreSQL database whole, verified, all or nothing, and keeps its pseudonyms.

The pilot is made by the real bot, driven through the fake Telegram: citizens consent,
one completes a wave and one stops half-way (a dialog state), a second wave fills the
outbox, staff and an action go into the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import io
import os
import shlex
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from bot.cli.main import main
from bot.sandbox.fake_telegram import FakeTelegram
from bot.settings import Settings
from storage.access import federal
from storage.database_copy import (
    Checksum,
    CopyError,
    copy_sqlite_to_postgres,
    verify_copy,
)
from storage.postgres import PostgresDatabase
from storage.pseudonym_key import pseudonym_key
from storage.staff_changes import add_staff
from storage.store import Store
from surveys.actions import ActionDraft
from surveys.pseudonym import Pseudonymizer
from tests.harness import TOKEN, Citizen, Groups, make_settings, open_wave, start_bot
from tests.postgres_server import PostgresCluster

#: Every answer of the pulse survey, as the citizen who completes it gives them.
PULSE = {
    "services_overall": 2,
    "healthcare_month": 3,
    "schools_month": None,
    "change_since_last_month": "worse",
    "recommend_region": 4,
    "comment": "Очередь в поликлинике — 'два' часа; \"долго\"",
}

#: The tables the pilot fills, each with at least one row.
FILLED = (
    "respondents",
    "survey_versions",
    "waves",
    "responses",
    "answers",
    "fsm_states",
    "invitations",
    "wave_progress",
    "audit_log",
    "staff",
    "actions",
)

Cli = Callable[..., tuple[int, str, str]]


async def _run_pilot(database: Path) -> None:
    async with FakeTelegram(token=TOKEN) as server:
        # A pilot runs on SQLite, whichever database other tests' bots are on: the copy
        # starts from its file.
        bot = await start_bot(make_settings(server, database.parent, database_path=database))
        try:
            await open_wave(bot.app, survey_id="pulse")
            done = Citizen(server, server.user(4001, "Ольга"))
            await done.onboard("Новгород", "Новгородская", "Великий Новгород", "31-35")
            await done.complete(bot.app.surveys["pulse"].survey, PULSE)
            halfway = Citizen(server, server.user(7_301_234_567, "Пётр"))
            groups = Groups(children="yes", disability="no", settlement="city")
            await halfway.onboard("Свердлов", "Свердловская", "Екатеринбург", "18-24", groups)
            await halfway.tap("4")
            # Both are invited to the second wave: the outbox fills.
            second = await open_wave(bot.app, survey_id="social_services")
            store = bot.app.store
            await store.progress.add(second, chat_id=900, message_id=1)
            await add_staff(store, federal(900), admin_ids=frozenset(), by="operator")
            await store.actions.add(ActionDraft("53", "Запись к врачу онлайн"), by="operator")
        finally:
            await bot.stop()


@pytest.fixture(scope="module")
def pilot_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    database = tmp_path_factory.mktemp("pilot") / "civicpulse.db"
    asyncio.run(_run_pilot(database))
    return database


@pytest.fixture
def pilot(pilot_file: Path, tmp_path: Path) -> Path:
    """This test's own copy of the pilot's database, in a folder of its own."""
    path = tmp_path / "pilot" / "civicpulse.db"
    path.parent.mkdir(mode=0o700)
    with (
        contextlib.closing(sqlite3.connect(pilot_file)) as source,
        contextlib.closing(sqlite3.connect(path)) as target,
    ):
        source.backup(target)
    return path


def _sqlite_rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return sorted(connection.execute(f"SELECT * FROM {table}").fetchall(), key=repr)


async def _postgres_rows(url: str, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(f"SELECT {', '.join(columns)} FROM {table}")
    finally:
        await connection.close()
    return sorted((tuple(row) for row in rows), key=repr)


def _columns(path: Path, table: str) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as connection:
        return [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]


async def _row_counts(url: str) -> dict[str, int]:
    connection = await asyncpg.connect(url)
    try:
        tables = await connection.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename != 'schema_migrations'"
        )
        return {
            name: await connection.fetchval(f"SELECT count(*) FROM {name}") for (name,) in tables
        }
    finally:
        await connection.close()


# The copy ----------------------------------------------------------------------------------


@pytest.mark.postgresql
async def test_every_row_of_every_table_arrives_as_it_was(pilot: Path, postgres_url: str) -> None:
    progress: list[tuple[str, int]] = []
    before = pilot.read_bytes()
    copies = await copy_sqlite_to_postgres(
        pilot, postgres_url, lambda table, rows: progress.append((table, rows))
    )
    assert pilot.read_bytes() == before  # the source is only read
    copied = {copy.table: copy for copy in copies}
    assert set(FILLED) <= set(copied) and "schema_migrations" not in copied
    assert all(copy.matches for copy in copies)
    for table in copied:
        source = _sqlite_rows(pilot, table)
        assert await _postgres_rows(postgres_url, table, _columns(pilot, table)) == source, table
        assert copied[table].rows == len(source)
        # Progress: the table's start, then its rows as they go.
        assert (table, 0) in progress and (table, len(source)) in progress
    for table in FILLED:
        assert copied[table].rows > 0, f"the pilot left {table} empty"
    # The dialog stopped half-way is among them: the bot on PostgreSQL resumes it.
    states = await _postgres_rows(postgres_url, "fsm_states", ["user_id", "state"])
    assert any(user == 7_301_234_567 and state for user, state in states), states


@pytest.mark.postgresql
async def test_new_rows_on_postgresql_get_ids_after_the_copied_ones(
    pilot: Path, postgres_url: str
) -> None:
    await copy_sqlite_to_postgres(pilot, postgres_url)
    largest = {
        table: max(row[0] for row in _sqlite_rows(pilot, table))
        for table in ("respondents", "audit_log", "actions")
    }
    database = await PostgresDatabase.open(postgres_url)
    try:
        store = Store(database)
        respondent = await store.respondents.record_consent(5005, "en", "test")
        assert respondent.id == largest["respondents"] + 1
        action = await store.actions.add(ActionDraft("49", "Ещё одно дело"), by="operator")
        assert action == largest["actions"] + 1
        await store.audit.record("cli", "operator", "test.after_copy", {})
        row = await database.fetch_one(
            "SELECT id FROM audit_log WHERE action = ?", ("test.after_copy",)
        )
        assert row is not None and row[0] == largest["audit_log"] + 1
    finally:
        await database.close()


@pytest.mark.postgresql
async def test_a_target_with_a_row_is_refused_and_left_as_it_was(
    pilot: Path, postgres_url: str
) -> None:
    database = await PostgresDatabase.open(postgres_url)
    try:
        await Store(database).respondents.record_consent(5005, "en", "test")
    finally:
        await database.close()
    before = await _row_counts(postgres_url)

    with pytest.raises(CopyError, match=r"is not empty \(rows in respondents\)"):
        await copy_sqlite_to_postgres(pilot, postgres_url)
    assert await _row_counts(postgres_url) == before
    assert sum(before.values()) == 1


@pytest.mark.postgresql
async def test_a_failure_half_way_leaves_the_target_empty(pilot: Path, postgres_url: str) -> None:
    """SQLite enforces foreign keys only where a connection turns them on; PostgreSQL
    always does. An answer whose response is gone fails the copy of answers, after the
    respondents and responses went across: those are rolled back with it."""
    with contextlib.closing(sqlite3.connect(pilot)) as connection:
        connection.execute(
            "INSERT INTO answers (response_id, question_id, topic, answered_at)"
            " VALUES (999, 'orphan', 'health', '2026-01-01T00:00:00Z')"
        )
        connection.commit()

    with pytest.raises(CopyError, match=r"the copy failed and was rolled back: .*answers"):
        await copy_sqlite_to_postgres(pilot, postgres_url)
    assert set((await _row_counts(postgres_url)).values()) == {0}


async def test_a_source_of_an_older_schema_is_refused_before_the_target_is_touched(
    pilot: Path,
) -> None:
    with contextlib.closing(sqlite3.connect(pilot)) as connection:
        connection.execute(
            "DELETE FROM schema_migrations WHERE version = (SELECT max(version) FROM"
            " schema_migrations)"
        )
        connection.commit()
    unreachable = "postgresql://civicpulse:s3cret@127.0.0.1:1/civicpulse"
    with pytest.raises(CopyError, match="migrate it first") as refused:
        await copy_sqlite_to_postgres(pilot, unreachable)
    assert "civicpulse wave list" in str(refused.value)


# The checksum ------------------------------------------------------------------------------


def _checksum(*rows: tuple[Any, ...]) -> str:
    checksum = Checksum()
    checksum.add(list(rows))
    return checksum.hexdigest()


def test_the_checksum_ignores_order_and_sees_every_change_of_value_or_type() -> None:
    rows = [(1, "a", 2.5, None), (2, "b", 0.1, "{}")]
    assert _checksum(*rows) == _checksum(*reversed(rows))
    variants = [
        [(1, "a", 2.5, None)],  # a row missing
        [*rows, rows[0]],  # a row twice
        [(1, "a", 2.5, ""), rows[1]],  # NULL became empty text
        [(1, "a", 2.5000000000000004, None), rows[1]],  # the last bit of a float
        [(1.0, "a", 2.5, None), rows[1]],  # an integer became a float
        [("1", "a", 2.5, None), rows[1]],  # … or text
        [(True, "a", 2.5, None), rows[1]],  # … or a boolean
        [(1, "a", 2.5, None), (2, "b", 0.1, '{"x": 1}')],  # JSON text
        [(1, "a", 2.5, None), (2, b"b", 0.1, "{}")],  # bytes for text
    ]
    sums = {_checksum(*variant) for variant in variants}
    assert len(sums) == len(variants) and _checksum(*rows) not in sums


@pytest.mark.postgresql
@pytest.mark.parametrize(
    "table,change",
    [
        ("answers", "UPDATE answers SET value = '5' WHERE question_id = 'recommend_region'"),
        ("answers", "UPDATE answers SET score = score * (1 - 1e-15) WHERE score > 0"),
        ("respondents", "UPDATE respondents SET children = NULL WHERE children IS NOT NULL"),
        ("invitations", "DELETE FROM invitations WHERE id = (SELECT min(id) FROM invitations)"),
    ],
)
async def test_verification_finds_a_value_changed_after_the_copy(
    pilot: Path, postgres_url: str, table: str, change: str
) -> None:
    await copy_sqlite_to_postgres(pilot, postgres_url)
    assert all(copy.matches for copy in await verify_copy(pilot, postgres_url))
    connection = await asyncpg.connect(postgres_url)
    try:
        assert not (await connection.execute(change)).endswith(" 0")
    finally:
        await connection.close()
    differing = [copy for copy in await verify_copy(pilot, postgres_url) if not copy.matches]
    assert [copy.table for copy in differing] == [table]


# The command -------------------------------------------------------------------------------


@pytest.fixture
def cli(
    pilot: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Cli]:
    """`civicpulse …` in this process, in the service's working folder (tmp_path/service),
    on the pilot's database: (exit status, stdout, stderr)."""
    service = tmp_path / "service"
    service.mkdir()
    monkeypatch.chdir(service)
    for name in ("DATABASE_URL", "PSEUDONYM_KEY", "BOT_TOKEN"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("DATABASE_PATH", str(pilot))
    umask = os.umask(0o022)
    os.umask(umask)

    def run(*argv: str) -> tuple[int, str, str]:
        status = main(list(argv))
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    yield run
    os.umask(umask)  # main() narrows it for the process; other tests expect their own


def _exported_pseudonyms(cli: Cli) -> set[str]:
    status, out, err = cli("export", "answers", "--wave", "1")
    assert status == 0, err
    return {row["respondent"] for row in csv.DictReader(io.StringIO(out))}


@pytest.mark.postgresql
async def test_the_command_copies_reports_and_says_how_to_finish_with_the_same_pseudonyms(
    cli: Cli, pilot: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An export on SQLite makes the key file beside the database.
    exported = await asyncio.to_thread(_exported_pseudonyms, cli)
    assert exported

    status, out, err = await asyncio.to_thread(cli, "db", "copy", "--to", postgres_url)

    assert status == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["table", "rows", "copied", "checksum"]
    answers = next(line.split() for line in lines if line.startswith("answers "))
    assert answers[1] == answers[2] and answers[3] == "match"
    assert "copying answers…" in err.splitlines()
    password = postgres_url.split(":")[2].split("@")[0]
    assert password not in out + err
    assert "DATABASE_URL=postgresql://civicpulse:***@" in out
    assert "remove DATABASE_PATH" in out

    # Finish the move as told: the key file goes where CivicPulse looks for it with
    # DATABASE_URL set, and DATABASE_PATH goes.
    (commands,) = [line.strip() for line in lines if line.strip().startswith("install -d")]
    for command in commands.split(" && "):
        subprocess.run(shlex.split(command), check=True)
    _, old, new = shlex.split(commands.split(" && ")[1])
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    monkeypatch.delenv("DATABASE_PATH")
    settings = Settings()
    key = pseudonym_key(settings.database_path, settings.pseudonym_key)
    assert Path(new).exists() and not Path(old).exists()

    # The same respondents, under the same ids, with the same key: the same pseudonyms.
    database = await PostgresDatabase.open(postgres_url)
    try:
        rows = await database.fetch_all("SELECT respondent_id FROM responses WHERE wave_id = 1")
    finally:
        await database.close()
    pseudonym = Pseudonymizer(key)
    assert {pseudonym(row[0]) for row in rows} == exported


@pytest.mark.postgresql
def test_the_command_refuses_a_target_that_is_not_empty(cli: Cli, postgres_url: str) -> None:
    assert cli("db", "copy", "--to", postgres_url)[0] == 0
    status, out, err = cli("db", "copy", "--to", postgres_url)
    assert status == 1 and out == ""
    assert err.startswith("civicpulse: db copy: nothing copied: the PostgreSQL database ")
    assert "is not empty" in err and err.count("\n") == 1


@pytest.mark.postgresql
def test_the_command_says_in_one_line_when_the_credentials_are_wrong(
    cli: Cli, postgres_cluster: PostgresCluster
) -> None:
    wrong = postgres_cluster.url("postgres", password="not-the-password")
    status, out, err = cli("db", "copy", "--to", wrong)
    assert status == 1 and out == ""
    assert err.startswith("civicpulse: db copy: nothing copied: cannot open the database ")
    assert "civicpulse:***@" in err and "not-the-password" not in err
    assert err.count("\n") == 1


def test_the_command_says_in_one_line_when_the_server_is_unreachable(cli: Cli) -> None:
    status, out, err = cli("db", "copy", "--to", "postgresql://civicpulse:s3cret@127.0.0.1:1/db")
    assert status == 1 and out == ""
    assert "cannot open the database postgresql://civicpulse:***@127.0.0.1:1/db" in err
    assert "s3cret" not in err and err.count("\n") == 1


def test_the_command_says_in_one_line_when_the_source_is_missing(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_PATH", str(tmp_path / "nowhere" / "civicpulse.db"))
    status, out, err = cli("db", "copy", "--to", "postgresql://civicpulse:s3cret@127.0.0.1:1/db")
    assert status == 1 and out == ""
    assert err == (
        f"civicpulse: db copy: nothing copied: there is no SQLite database at "
        f"{tmp_path / 'nowhere' / 'civicpulse.db'} (DATABASE_PATH)\n"
    )
    assert not (tmp_path / "nowhere").exists()


def test_the_command_refuses_when_the_settings_name_postgresql_already(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_PATH")
    monkeypatch.setenv("DATABASE_URL", "postgresql://civicpulse:s3cret@127.0.0.1:1/db")
    status, out, err = cli("db", "copy", "--to", "postgresql://civicpulse:s3cret@127.0.0.1:1/x")
    assert status == 1 and out == ""
    assert "DATABASE_URL is set" in err and err.count("\n") == 1
