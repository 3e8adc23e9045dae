"""Figures and exports on PostgreSQL: the same files, byte for byte, as on SQLite.

The same two closed waves of the bundled social-services survey are built in both
databases through the repositories, as the chat stores them (one answer a transaction),
with a clock frozen at one moment so that both store the same times. Then every file a
person can ask for is written from each database by the real command line — ratings at
both levels, weighted and for Excel, the change of two waves and the series, the groups,
the situations, the answers, the map and the public site — and the two must be
identical, and hold real rows. What the chat shows (/results, /report, the wave's
figures) is compared the same way, through the functions the chat calls.
"""

from __future__ import annotations

import asyncio
import csv
import filecmp
import io
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from bot.chat.results_view import region_results_text
from bot.chat.texts import Texts
from bot.cli.main import main
from storage.backend import Backend
from storage.database import Database
from storage.postgres import PostgresDatabase
from storage.repositories.respondents import GroupAnswers, RespondentRepository
from storage.repositories.responses import AnswerRecord, ResponseRepository
from storage.repositories.surveys import SurveyRepository
from storage.repositories.waves import WaveRepository
from storage.result_files import overall_chart_png, region_map, wave_report
from storage.results import region_comparison
from storage.store import Store
from storage.wave_stats import WaveStats, wave_stats
from surveys.loader import BUNDLED_SURVEYS_DIR, load_survey_file
from surveys.model import AGE_BAND_IDS, DONT_KNOW, AnswerValue, Question, QuestionType, Survey
from surveys.regions import load_catalog
from surveys.scoring import answer_score
from surveys.targeting import track_for
from tests.postgres_server import PostgresCluster

pytestmark = pytest.mark.postgresql

SURVEY = load_survey_file(BUNDLED_SURVEYS_DIR / "social_services.yaml")
MIN_CELL = 5
RESPONDENTS = 120
OLD_WAVE, NEW_WAVE = 1, 2
#: Every stored time, in both databases: the answers file shows when each answer was given.
FROZEN = datetime(2026, 11, 10, 9, 30, tzinfo=UTC)
KEY = "figures-on-postgres-key-0123456789"


@dataclass(frozen=True)
class Databases:
    sqlite: Path
    postgresql: str


def _regions() -> list[tuple[str, list[str]]]:
    """Three regions with municipalities: enough for places, suppression and a map."""
    catalog = load_catalog()
    chosen = [region for region in catalog.regions() if len(region.municipalities) >= 3][:3]
    return [(r.code, [m.code for m in r.municipalities[:3]]) for r in chosen]


def _value(rng: random.Random, question: Question, mood: float) -> AnswerValue:
    """An answer a citizen could give, a region's `mood` pulling its scales up or down."""
    if question.type in (QuestionType.LIKERT5, QuestionType.NPS):
        low, high = (1, 5) if question.type is QuestionType.LIKERT5 else (0, 10)
        return min(high, max(low, round(rng.gauss((low + high) / 2 + mood * high / 5, high / 4))))
    options = [option.id for option in question.options]
    if question.type is QuestionType.SINGLE:
        return rng.choice(options)
    if question.type is QuestionType.MULTI:
        return sorted(rng.sample(options, rng.randint(1, min(3, len(options)))))
    if question.type is QuestionType.NUMBER:
        if question.dont_know and rng.random() < 0.1:
            return DONT_KNOW
        return rng.randint(question.min or 0, min(question.max or 30, 30))
    return rng.choice(["Всё хорошо", "Долго ждать", "=СУММ(1;2)", "-нет очереди"])


def _answers(rng: random.Random, survey: Survey, mood: float) -> dict[str, AnswerValue]:
    """A respondent's answers: most questions, a situation's only by those who lived it."""
    given: dict[str, AnswerValue] = {}
    lived: set[str] = set()
    for question in survey.questions:
        if question.situation is not None and question.situation not in lived:
            continue
        if question.situation is None and rng.random() < 0.15:
            continue  # skipped, or never shown
        value = _value(rng, question, mood)
        if question.screening:
            lived = {option for option in value if rng.random() < 0.7}  # type: ignore[union-attr]
            value = sorted(lived) or value
        given[question.id] = value
    return given


async def _build(database: Backend) -> None:
    """Two closed waves of the same people, through the repositories, from one seed."""
    rng = random.Random(20261110)
    version_id = await SurveyRepository(database).store(SURVEY)
    waves, respondents = WaveRepository(database), RespondentRepository(database)
    responses = ResponseRepository(database)
    people = []
    for number in range(RESPONDENTS):
        region, municipalities = rng.choice(_regions())
        municipality = rng.choice([*municipalities, None])
        band = rng.choice(AGE_BAND_IDS)
        groups = GroupAnswers(
            children=rng.choice(["yes", "no", None]),
            disability=rng.choice(["yes", "no", "undisclosed", None]),
            settlement=rng.choice(["city", "town", "village", None]),
        )
        respondent = await respondents.record_consent(7_000_000 + number, "ru", "test")
        people.append((respondent.id, region, municipality, band, groups))
    for week in range(2):
        start = FROZEN - timedelta(days=60 - 30 * week)
        wave_id = await waves.create(
            version_id, start, start + timedelta(days=14), regions=None, tracks="all"
        )
        await waves.transition(wave_id, ("scheduled",), "closed")
        for respondent_id, region, municipality, band, groups in people:
            mood = (int(region) % 7 - 3) / 3 + week * 0.2
            response = await responses.start(
                wave_id,
                respondent_id,
                version_id,
                region,
                municipality,
                band,
                track_for(SURVEY, band),
                groups,
            )
            for question_id, value in _answers(rng, SURVEY, mood).items():
                question = SURVEY.question(question_id)
                assert question is not None
                score = answer_score(question, value)
                record = AnswerRecord(question_id, question.topic, value, score)
                await responses.save_answer(response.id, record)
            await responses.complete(response.id)


async def _build_in(database: Backend) -> None:
    try:
        await _build(database)
    finally:
        await database.close()


async def _administer(cluster: PostgresCluster, *statements: str) -> None:
    admin = await asyncpg.connect(cluster.url("postgres"))
    try:
        for statement in statements:
            await admin.execute(statement)
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def databases(
    postgres_cluster: PostgresCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Databases]:
    """The same data in a SQLite file and a PostgreSQL database, built once for the module."""
    name = "figures_on_postgres"
    path = tmp_path_factory.mktemp("figures") / "figures.db"
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    asyncio.run(_administer(postgres_cluster, drop, f'CREATE DATABASE "{name}"'))
    url = postgres_cluster.url(name)
    try:
        with pytest.MonkeyPatch.context() as frozen:
            frozen.setattr("storage.clock.utc_now", lambda: FROZEN)
            asyncio.run(_build_in_both(path, url))
        yield Databases(path, url)
    finally:
        asyncio.run(_administer(postgres_cluster, drop))


async def _build_in_both(path: Path, url: str) -> None:
    await _build_in(await Database.open(path))
    await _build_in(await PostgresDatabase.open(url))


def _population(path: Path) -> Path:
    """A population file for `--weights`: every region × age band of the waves."""
    rows = [
        f"{region},{band},{10_000 + 1_000 * i + 100 * j}"
        for i, (region, _) in enumerate(_regions())
        for j, band in enumerate(AGE_BAND_IDS)
    ]
    path.write_text("region_code,age_band,population\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _civicpulse(
    monkeypatch: pytest.MonkeyPatch, folder: Path, database: dict[str, str], *argv: str
) -> None:
    """`civicpulse ARGV` as an operator runs it, on the database the environment names."""
    monkeypatch.chdir(folder)  # no `.env` of a working copy
    for name in ("DATABASE_URL", "DATABASE_PATH"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**database, "MIN_CELL_SIZE": str(MIN_CELL), "PSEUDONYM_KEY": KEY}.items():
        monkeypatch.setenv(name, value)
    assert main(list(argv)) == 0


def _on_both(
    databases: Databases,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    output: str,
    *argv: str,
) -> tuple[Path, Path]:
    """The command on each database, writing `output` into a folder of its own."""
    written = []
    for label, database in (
        ("sqlite", {"DATABASE_PATH": str(databases.sqlite)}),
        ("postgresql", {"DATABASE_URL": databases.postgresql}),
    ):
        folder = tmp_path / label
        folder.mkdir(exist_ok=True)
        _civicpulse(monkeypatch, folder, database, *argv, "-o", str(folder / output))
        written.append(folder / output)
    return written[0], written[1]


def _rows(path: Path, excel: bool = False) -> list[dict[str, str]]:
    text = path.read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text, newline=""), delimiter=";" if excel else ","))


FILES = [
    pytest.param(["ratings", "--wave", "2"], "score", id="ratings"),
    pytest.param(
        ["ratings", "--wave", "2", "--level", "municipality"], "score", id="ratings-municipality"
    ),
    pytest.param(["ratings", "--wave", "2", "--excel"], "score", id="ratings-excel"),
    pytest.param(["change", "--wave", "2", "--against", "1"], "change", id="change"),
    pytest.param(
        ["change", "--wave", "2", "--against", "1", "--level", "municipality"],
        "change",
        id="change-municipality",
    ),
    pytest.param(["change", "--survey", SURVEY.id], "change", id="series"),
    pytest.param(["segments", "--wave", "2"], "gap", id="segments"),
    pytest.param(
        ["segments", "--wave", "2", "--level", "municipality"], "score", id="segments-municipality"
    ),
    pytest.param(["situations", "--wave", "2", "--against", "1"], "value_before", id="situations"),
    pytest.param(
        ["situations", "--wave", "2", "--level", "municipality"], "value", id="situations-alone"
    ),
    pytest.param(["answers", "--wave", "2"], "value", id="answers"),
]


@pytest.mark.parametrize("argv,filled", FILES)
def test_every_export_is_the_same_file_on_both_databases(
    databases: Databases,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    argv: list[str],
    filled: str,
) -> None:
    on_sqlite, on_postgresql = _on_both(
        databases, monkeypatch, tmp_path, "out.csv", "export", *argv
    )
    rows = _rows(on_postgresql, excel="--excel" in argv)
    assert len(rows) > 10 and sum(bool(row[filled]) for row in rows) > 5
    assert on_postgresql.read_bytes() == on_sqlite.read_bytes()


@pytest.mark.parametrize("kind", ["ratings", "change"])
def test_weighted_figures_are_the_same_on_both_databases(
    databases: Databases, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, kind: str
) -> None:
    weights = _population(tmp_path / "population.csv")
    waves = ["--wave", "2"] if kind == "ratings" else ["--wave", "2", "--against", "1"]
    argv = ["export", kind, *waves, "--weights", str(weights)]
    on_sqlite, on_postgresql = _on_both(databases, monkeypatch, tmp_path, "out.csv", *argv)
    unweighted, _ = _on_both(databases, monkeypatch, tmp_path, "plain.csv", "export", kind, *waves)
    assert on_postgresql.read_bytes() == on_sqlite.read_bytes()
    assert on_postgresql.read_bytes() != unweighted.read_bytes()  # the weights did something


def test_the_map_and_the_site_are_the_same_on_both_databases(
    databases: Databases, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    on_sqlite, on_postgresql = _on_both(
        databases, monkeypatch, tmp_path, "map.svg", "export", "map", "--wave", "2"
    )
    assert b"<svg" in on_postgresql.read_bytes()
    assert on_postgresql.read_bytes() == on_sqlite.read_bytes()
    site_sqlite, site_postgresql = _on_both(
        databases, monkeypatch, tmp_path, "site", "publish", "--wave", "2"
    )
    files = sorted(
        p.relative_to(site_postgresql) for p in site_postgresql.rglob("*") if p.is_file()
    )
    assert len(files) > 20 and Path("data/ratings-region.csv") in files
    assert files == sorted(
        p.relative_to(site_sqlite) for p in site_sqlite.rglob("*") if p.is_file()
    )
    _, differing, missing = filecmp.cmpfiles(site_sqlite, site_postgresql, files, shallow=False)
    assert differing == [] and missing == []


@dataclass(frozen=True)
class ChatFigures:
    """What the chat shows of the new wave: the figures as people read them (the unrounded
    sums differ in their last bits, added up in another order by each database)."""

    #: /results: the first region against the whole wave.
    results: str
    #: /report: its chart and its map.
    chart: bytes
    tile_map: bytes
    #: The wave's own figures (/stats, `civicpulse wave stats`).
    stats: WaveStats


async def _what_the_chat_shows(database: Backend) -> ChatFigures:
    try:
        region = _regions()[0][0]
        comparison = await region_comparison(database, NEW_WAVE, region, min_cell_size=MIN_CELL)
        report = await wave_report(database, NEW_WAVE, min_cell_size=MIN_CELL)
        wave = await WaveRepository(database).get(NEW_WAVE)
        assert wave is not None
        return ChatFigures(
            region_results_text("survey", "region", comparison, Texts("en")),
            await overall_chart_png(report, language="en"),
            await region_map(report, language="en"),
            await wave_stats(Store(database), wave, FROZEN),
        )
    finally:
        await database.close()


async def test_what_the_chat_shows_is_the_same_on_both_databases(databases: Databases) -> None:
    on_sqlite = await _what_the_chat_shows(await Database.open(databases.sqlite))
    on_postgresql = await _what_the_chat_shows(await PostgresDatabase.open(databases.postgresql))
    assert "Overall" in on_postgresql.results and on_postgresql.chart.startswith(b"\x89PNG")
    assert on_postgresql.stats.total.completed == RESPONDENTS
    assert len(on_postgresql.stats.regions) == len(_regions())
    assert on_postgresql == on_sqlite
