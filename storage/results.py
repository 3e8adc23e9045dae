"""A wave's results: the SQL that feeds aggregation and exports, and the services on top.

Two scans, both on a separate read-only connection (`Database.reader()`) so that a long
export never holds up a citizen's answer, and both in id order so SQLite never sorts:

- ratings: SQL averages each respondent's scored answers per topic and their weighted
  overall score, then sums those per region × municipality × track × age band; Python
  receives only these sums (`GroupStats`) and does the cell maths in `surveys.aggregate`.
  The scan runs in slices of responses inside one read transaction, so memory stays flat,
  progress can be reported, and every slice sees the same snapshot.
- answers: rows are fetched in chunks and written to CSV as they arrive; JSON values are
  decoded by SQLite, pseudonyms computed once per respondent.

The service functions at the end are what the CLI and the chat call.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO

import aiosqlite

from storage.database import Database
from storage.repositories.surveys import SurveyRepository
from storage.repositories.waves import Wave, WaveRepository
from surveys.aggregate import (
    OVERALL,
    SCORE_TOLERANCE,
    Cell,
    CellTrack,
    Estimate,
    GroupStats,
    Level,
    Moments,
    Ratings,
    build_ratings,
)
from surveys.chart import CHART_LABELS, ChartBar, overall_chart
from surveys.export import AnswerRow, RatingRow, answers_csv, ratings_csv
from surveys.model import Survey
from surveys.pseudonym import Pseudonymizer
from surveys.regions import RegionCatalog, load_catalog
from surveys.scoring import SATISFIED_THRESHOLD
from surveys.text import LocalizedText
from surveys.weighting import PopulationTable

#: Called with (done, total) responses as a scan advances; for progress bars.
Progress = Callable[[int, int], None]

#: Responses per slice of the ratings scan: large enough that per-query overhead vanishes,
#: small enough that the per-slice GROUP BY sorts a few thousand rows in memory.
RATINGS_SLICE = 25_000
#: Answer rows fetched per round trip to the reader thread.
ANSWERS_CHUNK = 5_000


class UnknownWave(LookupError):
    def __init__(self, wave_id: int) -> None:
        super().__init__(f"there is no wave {wave_id}")
        self.wave_id = wave_id


def scored_topics(survey: Survey) -> tuple[str, ...]:
    """Topics with at least one scored question, in survey order: only they get a score."""
    scored = {question.topic for question in survey.questions if question.is_scored}
    return tuple(topic.id for topic in survey.topics if topic.id in scored)


async def wave_survey(database: Database, wave_id: int) -> tuple[Wave, Survey]:
    wave = await WaveRepository(database).get(wave_id)
    if wave is None:
        raise UnknownWave(wave_id)
    survey = await SurveyRepository(database).get(wave.survey_version_id)
    if survey is None:  # the foreign key makes this impossible short of a damaged file
        raise UnknownWave(wave_id)
    return wave, survey


# The SQL ---------------------------------------------------------------------------------------

# `+r.wave_id` keeps SQLite off the (wave_id, respondent_id) index: walking responses in id
# order, the primary key order of answers, lets GROUP BY r.id and ORDER BY r.id stream
# without a sort over millions of rows. CROSS JOIN fixes that join order.
_WAVE_RESPONSES = (
    "FROM responses AS r CROSS JOIN answers AS a ON a.response_id = r.id"
    " WHERE +r.wave_id = :wave AND r.id BETWEEN :first AND :last"
)


def group_stats_sql(topics: Sequence[str], level: Level) -> str:
    """Sums of respondents' topic scores per region × municipality × track × age band.

    Topics are parameters (:topic0…), weights too (:weight0…); overall is the weighted mean
    over the topics a respondent has a score in, exactly `surveys.aggregate.overall_score`.
    """
    municipality = "coalesce(r.municipality_code, '')" if level == "municipality" else "''"
    columns = [f"t{i}" for i in range(len(topics))]
    per_topic = ", ".join(
        f"avg(CASE WHEN a.topic = :topic{i} THEN a.score END) AS {column}"
        for i, column in enumerate(columns)
    )
    weighted = " + ".join(f"coalesce(:weight{i} * {c}, 0)" for i, c in enumerate(columns))
    weights = " + ".join(f"({c} IS NOT NULL) * :weight{i}" for i, c in enumerate(columns))
    sums = ", ".join(
        f"count({c}), total({c}), total({c} * {c}), total({c} >= :threshold)"
        for c in [*columns, "overall"]
    )
    return (
        "WITH per_response AS ("
        f" SELECT r.region_code AS region, {municipality} AS municipality, r.track AS track,"
        f" r.age_band AS band, {per_topic}"
        f" {_WAVE_RESPONSES} AND a.score IS NOT NULL GROUP BY r.id),"
        " scored AS ("
        f" SELECT *, ({weighted}) / nullif({weights}, 0) AS overall FROM per_response)"
        f" SELECT region, municipality, track, band, {sums}"
        " FROM scored GROUP BY region, municipality, track, band"
    )


_ANSWERS_SQL = (
    "SELECT r.id, r.respondent_id, r.region_code, coalesce(r.municipality_code, ''),"
    " r.age_band, r.track, a.question_id, a.topic,"
    " CASE json_type(a.value)"
    "  WHEN 'integer' THEN CAST(a.value AS INTEGER)"
    "  WHEN 'text' THEN a.value ->> '$'"
    "  WHEN 'array' THEN (SELECT group_concat(j.value, '|') FROM json_each(a.value) AS j)"
    "  ELSE a.value END,"
    " substr(a.answered_at, 1, 19) || 'Z' "
    f"{_WAVE_RESPONSES} ORDER BY r.id, a.question_id"
)


@dataclass(frozen=True, slots=True)
class _Span:
    first: int
    last: int
    responses: int

    def slices(self, size: int) -> list[tuple[int, int]]:
        """Id ranges holding about `size` of the wave's responses each."""
        if self.responses == 0:
            return []
        count = max(1, math.ceil(self.responses / size))
        width = math.ceil((self.last - self.first + 1) / count)
        return [
            (start, min(start + width - 1, self.last))
            for start in range(self.first, self.last + 1, width)
        ]


async def _span(connection: aiosqlite.Connection, wave_id: int) -> _Span:
    cursor = await connection.execute(
        "SELECT min(id), max(id), count(*) FROM responses WHERE wave_id = ?", (wave_id,)
    )
    first, last, responses = await cursor.fetchone() or (None, None, 0)
    return _Span(first or 0, last or 0, responses)


async def stream_group_stats(
    connection: aiosqlite.Connection,
    wave_id: int,
    survey: Survey,
    level: Level,
    progress: Progress | None = None,
) -> AsyncIterator[list[GroupStats]]:
    """The wave's `GroupStats`, one slice of responses at a time.

    A group may appear in several slices; its moments add up. The caller must hold a read
    transaction open for the slices to agree (`_snapshot`).
    """
    topics = scored_topics(survey)
    parameters: dict[str, Any] = {
        "wave": wave_id,
        "threshold": SATISFIED_THRESHOLD - SCORE_TOLERANCE,
    }
    for i, topic in enumerate(topics):
        parameters[f"topic{i}"] = topic
        weight = survey.topic(topic)
        parameters[f"weight{i}"] = weight.weight if weight else 1.0
    sql = group_stats_sql(topics, level)
    span = await _span(connection, wave_id)
    slices = span.slices(RATINGS_SLICE)
    for index, (first, last) in enumerate(slices, start=1):
        cursor = await connection.execute(sql, {**parameters, "first": first, "last": last})
        rows = await cursor.fetchall()
        yield [group for row in rows for group in _groups(row, (*topics, OVERALL))]
        if progress is not None:
            progress(round(span.responses * index / len(slices)), span.responses)


def _groups(row: Sequence[Any], topics: Sequence[str]) -> list[GroupStats]:
    region, municipality, track, band = row[:4]
    groups = []
    for i, topic in enumerate(topics):
        count, total, squares, satisfied = row[4 + 4 * i : 8 + 4 * i]
        if count:
            moments = Moments(count, total, squares, int(satisfied))
            groups.append(GroupStats(region, municipality, track, band, topic, moments))
    return groups


async def stream_answer_rows(
    connection: aiosqlite.Connection,
    wave_id: int,
    pseudonym: Callable[[int], str],
    progress: Progress | None = None,
) -> AsyncIterator[list[AnswerRow]]:
    """Every answer of the wave as export rows, a chunk at a time, in response order."""
    span = await _span(connection, wave_id)
    cursor = await connection.execute(
        _ANSWERS_SQL, {"wave": wave_id, "first": span.first, "last": span.last}
    )
    last_response, respondent, done = None, "", 0
    while rows := await cursor.fetchmany(ANSWERS_CHUNK):
        chunk = []
        for response_id, respondent_id, *place, question, topic, value, answered_at in rows:
            if response_id != last_response:
                last_response, respondent = response_id, pseudonym(respondent_id)
                done += 1
            chunk.append(
                AnswerRow(wave_id, respondent, *place, question, topic, value, answered_at)
            )
        yield chunk
        if progress is not None:
            progress(done, span.responses)


async def _snapshot(connection: aiosqlite.Connection) -> None:
    """One read transaction, so a scan in slices sees one consistent state of the data."""
    await connection.execute("BEGIN")


# Services -----------------------------------------------------------------------------------------


async def compute_ratings(
    database: Database,
    wave_id: int,
    *,
    level: Level = "region",
    min_cell_size: int,
    population: PopulationTable | None = None,
    progress: Progress | None = None,
) -> tuple[Survey, Ratings]:
    """Every cell of a wave, suppressed, estimated and ranked. Raises `UnknownWave`."""
    _, survey = await wave_survey(database, wave_id)
    groups: list[GroupStats] = []
    async with database.reader() as connection:
        await _snapshot(connection)
        async for chunk in stream_group_stats(connection, wave_id, survey, level, progress):
            groups.extend(chunk)
    ratings = build_ratings(
        groups,
        scored_topics(survey),
        level=level,
        min_cell_size=min_cell_size,
        population=population,
    )
    return survey, ratings


def rating_row(wave_id: int, cell: Cell, catalog: RegionCatalog) -> RatingRow:
    """A cell as a ratings-file row; suppressed rows carry neither score nor count."""
    region = catalog.region(cell.region_code)
    municipality = (
        catalog.municipality(cell.region_code, cell.municipality_code)
        if cell.municipality_code
        else None
    )
    shown = cell.estimate if not cell.suppressed else None
    return RatingRow(
        wave_id=wave_id,
        region_code=cell.region_code,
        region_name=region.name.ru if region else "",
        municipality_code=cell.municipality_code,
        municipality_name=municipality.name.ru if municipality else "",
        track=cell.track,
        topic=cell.topic,
        respondents=None if cell.suppressed else cell.respondents,
        score=shown.score if shown else None,
        ci_low=shown.ci_low if shown else None,
        ci_high=shown.ci_high if shown else None,
        satisfied_share=shown.satisfied_share if shown else None,
        rank=cell.rank,
        suppressed=cell.suppressed,
    )


async def ratings_rows(
    database: Database,
    wave_id: int,
    *,
    level: Level = "region",
    min_cell_size: int,
    population: PopulationTable | None = None,
    catalog: RegionCatalog | None = None,
    progress: Progress | None = None,
) -> list[RatingRow]:
    """The ratings file's rows, in its order. Raises `UnknownWave`, `PopulationError`."""
    _, ratings = await compute_ratings(
        database,
        wave_id,
        level=level,
        min_cell_size=min_cell_size,
        population=population,
        progress=progress,
    )
    catalog = catalog or load_catalog()
    return [rating_row(wave_id, cell, catalog) for cell in ratings.rows()]


async def write_ratings_csv(
    database: Database,
    wave_id: int,
    target: BinaryIO,
    *,
    level: Level = "region",
    min_cell_size: int,
    population: PopulationTable | None = None,
    excel: bool = False,
    catalog: RegionCatalog | None = None,
    progress: Progress | None = None,
) -> int:
    """Writes the ratings file into a binary stream; returns the number of rows.

    Nothing is written before the figures are complete, so an unknown wave or a population
    file that misses a region leaves `target` untouched.
    """
    rows = await ratings_rows(
        database,
        wave_id,
        level=level,
        min_cell_size=min_cell_size,
        population=population,
        catalog=catalog,
        progress=progress,
    )
    with ratings_csv(target, excel=excel) as out:
        out.write_many(rows)
    return out.rows


async def write_answers_csv(
    database: Database,
    wave_id: int,
    target: BinaryIO,
    *,
    key: bytes,
    excel: bool = False,
    progress: Progress | None = None,
) -> int:
    """Streams every answer of the wave into a binary stream; returns the number of rows.

    `key` is the pseudonym key (`storage.pseudonym_key.pseudonym_key`). Raises `UnknownWave`
    before writing anything.
    """
    await wave_survey(database, wave_id)
    pseudonym = Pseudonymizer(key)
    async with database.reader() as connection:
        with answers_csv(target, excel=excel) as out:
            async for chunk in stream_answer_rows(connection, wave_id, pseudonym, progress):
                out.write_many(chunk)
    return out.rows


@dataclass(frozen=True, slots=True)
class TopicComparison:
    """One topic (or `overall`, whose title is None) for the region and the whole wave."""

    topic: str
    title: LocalizedText | None
    region: Estimate
    #: None if the whole wave's cell is itself suppressed (a tiny wave).
    wave: Estimate | None


@dataclass(frozen=True, slots=True)
class RegionComparison:
    wave_id: int
    region_code: str
    track: CellTrack
    #: Overall first, then topics in survey order; only topics whose region cell is shown.
    topics: tuple[TopicComparison, ...]
    #: The region's place by overall score among `ranked_regions` shown regions.
    rank: int | None
    ranked_regions: int


async def region_comparison(
    database: Database,
    wave_id: int,
    region_code: str,
    *,
    min_cell_size: int,
    track: CellTrack = "all",
) -> RegionComparison:
    """What a respondent may see of their region against the whole wave.

    The same suppression as the published ratings applies (the whole wave is a parent of
    its regions there too), so the chat never shows a number the files withhold.
    """
    survey, ratings = await compute_ratings(database, wave_id, min_cell_size=min_cell_size)
    topics = []
    for topic in (OVERALL, *ratings.topics[:-1]):
        region = ratings.cells.get(((region_code,), track, topic))
        if region is None or region.estimate is None:
            continue
        wave = ratings.cell((), track, topic)
        described = survey.topic(topic)
        title = described.title if described else None
        topics.append(TopicComparison(topic, title, region.estimate, wave.estimate))
    overall = ratings.cells.get(((region_code,), track, OVERALL))
    ranked = [
        cell
        for area in ratings.areas(1)
        if (cell := ratings.cell(area, track, OVERALL)).rank is not None
    ]
    return RegionComparison(
        wave_id, region_code, track, tuple(topics), overall.rank if overall else None, len(ranked)
    )


async def overall_chart_png(
    database: Database,
    wave_id: int,
    *,
    min_cell_size: int,
    population: PopulationTable | None = None,
    catalog: RegionCatalog | None = None,
    language: str = "ru",
) -> bytes:
    """The regions' overall index with 95% intervals, everyone and youth, as PNG bytes."""
    _, ratings = await compute_ratings(
        database, wave_id, min_cell_size=min_cell_size, population=population
    )
    catalog = catalog or load_catalog()
    bars = []
    for area in ratings.areas(1):
        region = catalog.region(area[0])
        bars.append(
            ChartBar(
                label=region.name.get(language) if region else area[0],
                all=ratings.cell(area, "all", OVERALL).estimate,
                youth=ratings.cell(area, "youth", OVERALL).estimate,
            )
        )
    labels = CHART_LABELS.get(language, CHART_LABELS["ru"])
    # Drawing takes a noticeable fraction of a second; keep it off the bot's event loop.
    return await asyncio.to_thread(overall_chart, bars, labels)
