"""Which database the settings choose, and the one-line refusals when it cannot be used."""

from __future__ import annotations

import asyncio
import csv
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.cli.main import main
from bot.sandbox.runtime import sandbox_settings
from bot.settings import Settings
from storage.backend import DatabaseOpenError, SchemaTooNew
from storage.connect import open_database
from storage.database import Database
from storage.database_url import masked
from storage.postgres import PostgresDatabase
from storage.repositories.respondents import RespondentRepository
from storage.repositories.responses import AnswerRecord, ResponseRepository
from storage.repositories.surveys import SurveyRepository
from storage.repositories.waves import WaveRepository
from surveys.loader import BUNDLED_SURVEYS_DIR, load_surveys
from surveys.scoring import answer_score
from tests.postgres_server import PostgresCluster

URL = "postgresql://civicpulse:s3cret@db.example.org:5432/civicpulse"


@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No `.env` and no database settings from outside the test."""
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "DATABASE_PATH"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_a_url_chooses_postgresql_and_none_keeps_sqlite(
    environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert Settings().database_url is None
    monkeypatch.setenv("DATABASE_URL", "")
    assert Settings().database_url is None
    monkeypatch.setenv("DATABASE_URL", URL)
    settings = Settings()
    assert settings.database_url is not None
    assert settings.database_url.get_secret_value() == URL
    assert "s3cret" not in repr(settings)


def test_both_databases_set_is_one_line_naming_the_setting(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", URL)
    monkeypatch.setenv("DATABASE_PATH", str(environment / "civicpulse.db"))
    status = main(["wave", "list"])
    error = capsys.readouterr().err
    assert status != 0
    assert error.count("\n") == 1
    assert error.startswith("civicpulse: setting DATABASE_URL: ")
    assert "DATABASE_PATH" in error and "s3cret" not in error


@pytest.mark.parametrize(
    "url", ["mysql://civicpulse:s3cret@host/db", "postgresql://civicpulse:s3cret@host"]
)
def test_a_url_that_is_not_postgresql_is_refused_without_its_password(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["wave", "list"]) != 0
    error = capsys.readouterr().err
    assert error.startswith("civicpulse: setting DATABASE_URL: ") and "s3cret" not in error


def test_the_sandbox_never_uses_the_operators_postgresql(tmp_path: Path) -> None:
    base = Settings(database_url=SecretStr(URL), _env_file=None)  # type: ignore[call-arg]
    sandbox = sandbox_settings(base, "http://127.0.0.1:1", tmp_path / "sandbox.db", frozenset())
    assert sandbox.database_url is None and sandbox.database_path == tmp_path / "sandbox.db"


def test_a_password_is_masked_in_the_address_and_the_query() -> None:
    assert masked(URL) == "postgresql://civicpulse:***@db.example.org:5432/civicpulse"
    assert masked("postgresql://me@h/db?password=s3cret&sslmode=require") == (
        "postgresql://me@h/db?password=***&sslmode=require"
    )
    assert (
        masked("postgresql:///db?host=/run/postgresql") == "postgresql:///db?host=/run/postgresql"
    )


async def test_without_a_url_the_factory_opens_sqlite_at_the_path(tmp_path: Path) -> None:
    settings = Settings(database_path=tmp_path / "here.db", _env_file=None)  # type: ignore[call-arg]
    database = await open_database(settings)
    try:
        assert isinstance(database, Database) and database.path == tmp_path / "here.db"
    finally:
        await database.close()


async def test_a_newer_sqlite_schema_is_refused(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "new.db")
    await database.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'x')")
    await database.close()
    with pytest.raises(SchemaTooNew, match="schema version 999, newer than this program"):
        await Database.open(tmp_path / "new.db")


@pytest.mark.postgresql
async def test_the_factory_opens_postgresql_and_a_newer_schema_is_refused(
    postgres_url: str,
) -> None:
    settings = Settings(database_url=SecretStr(postgres_url), _env_file=None)  # type: ignore[call-arg]
    database = await open_database(settings)
    assert isinstance(database, PostgresDatabase)
    await database.execute("INSERT INTO schema_migrations (version, name) VALUES (999, 'x')")
    await database.close()
    with pytest.raises(SchemaTooNew, match="schema version 999, newer than this program"):
        await open_database(settings)


@pytest.mark.postgresql
async def test_wrong_credentials_and_no_server_are_one_line_without_the_password(
    postgres_cluster: PostgresCluster,
) -> None:
    wrong = postgres_cluster.url("postgres", password="not-the-password")
    with pytest.raises(DatabaseOpenError) as refused:
        await PostgresDatabase.open(wrong)
    assert "password authentication failed" in str(refused.value)
    assert "not-the-password" not in str(refused.value) and "\n" not in str(refused.value)
    nobody = f"postgresql://civicpulse:s3cret@127.0.0.1:{_closed_port()}/civicpulse"
    with pytest.raises(DatabaseOpenError) as unreachable:
        await PostgresDatabase.open(nobody)
    assert str(unreachable.value).startswith(
        "cannot open the database postgresql://civicpulse:***@127.0.0.1:"
    )
    assert "s3cret" not in str(unreachable.value) and "\n" not in str(unreachable.value)


@pytest.mark.postgresql
def test_a_command_on_an_unreachable_database_says_so_in_one_line(
    environment: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres_cluster: PostgresCluster,
) -> None:
    monkeypatch.setenv("DATABASE_URL", postgres_cluster.url("postgres", password="wrong"))
    with pytest.raises(SystemExit) as stopped:
        main(["audit"])
    assert stopped.value.code is not None and "wrong" not in str(stopped.value.code)
    assert str(stopped.value.code).startswith("civicpulse: cannot open the database ")
    assert "\n" not in str(stopped.value.code)


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_the_bot_on_an_unreachable_database_stops_with_one_line_and_status_1(
    environment: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BOT_TOKEN", "123456:ABCdefGHIjklMNOpqrSTUvwxYZ012345678")
    monkeypatch.setenv(
        "DATABASE_URL", f"postgresql://civicpulse:s3cret@127.0.0.1:{_closed_port()}/civicpulse"
    )
    assert main(["run"]) == 1
    said = capsys.readouterr().err.strip()
    assert said.startswith("civicpulse: cannot start: cannot open the database "), said
    assert "\n" not in said and "s3cret" not in said and "Traceback" not in said


@pytest.mark.postgresql
async def test_figures_on_postgresql_are_exported_by_the_same_command(
    environment: Path, monkeypatch: pytest.MonkeyPatch, postgres_url: str
) -> None:
    database = await PostgresDatabase.open(postgres_url)
    try:
        wave_id = await _a_wave_of_answers(database, people=3)
    finally:
        await database.close()
    monkeypatch.setenv("DATABASE_URL", postgres_url)
    monkeypatch.setenv("MIN_CELL_SIZE", "2")
    output = environment / "ratings.csv"
    argv = ["export", "ratings", "--wave", str(wave_id), "-o", str(output)]
    assert await asyncio.to_thread(main, argv) == 0
    rows = list(csv.DictReader(output.read_text(encoding="utf-8").splitlines()))
    shown = {(row["region_code"], row["topic"]): row["respondents"] for row in rows}
    assert shown[("49", "overall")] == "3"


async def _a_wave_of_answers(database: PostgresDatabase, people: int) -> int:
    """A closed wave of the bundled pulse survey, each person answering its first question."""
    survey = load_surveys(BUNDLED_SURVEYS_DIR)["pulse"]
    version_id = await SurveyRepository(database).store(survey)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    waves = WaveRepository(database)
    wave_id = await waves.create(version_id, start, start + timedelta(days=7), None, "all")
    await waves.transition(wave_id, ("scheduled",), "closed")
    question = next(q for q in survey.questions if q.is_scored)
    assert question.type == "likert5"
    responses = ResponseRepository(database)
    for number in range(people):
        respondent = await RespondentRepository(database).record_consent(number + 1, "ru", "v1")
        response = await responses.start(
            wave_id, respondent.id, version_id, "49", None, "45-54", "general"
        )
        record = AnswerRecord(question.id, question.topic, 4, answer_score(question, 4))
        await responses.save_answer(response.id, record)
    return wave_id
