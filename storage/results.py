"""A wave's results: the SQL that feeds aggregation and exports, and the services on top.

Both scans read through read-only connections of their own (`Backend.readers()`), so a
long export never holds up a citizen's answer; both walk responses and answers in id
order, so SQLite never sorts millions of rows; both work in slices of responses inside
read transactions that share one snapshot, so memory stays flat and the slices agree.
The SQL is written once for both databases, with the pieces that differ from the
connection's `dialect` (`storage.dialect`).

- ratings: SQL averages each respondent's scored answers per topic and their weighted
  overall score, then sums those per region × municipality × track × age band. Python
  receives only these sums (`GroupStats`) and does the cell maths in `surveys.aggregate`.
  Slices run side by side on one connection per core.
- answers: a slice's responses (with their pseudonyms) are looked up once, its answers
  stream past in chunks and go to the CSV as they arrive.

`compute_ratings` at the end is what the files (`storage.result_files`) and the chat's
figures are made from."""

from __future__ import annotations

import asyncio
import json
import math
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from storage.backend import Backend, Reader
from storage.dialect import SQLITE, Dialect
from storage.repositories.surveys import SurveyRepository
from storage.repositories.waves import Wave, WaveRepository
from surveys.aggregate import (
    OVERALL,
    SCORE_TOLERANCE,
    CellTrack,
    GroupStats,
    Moments,
    Ratings,
    build_ratings,
)
from surveys.export import AnswerRow
from surveys.model import Survey
from surveys.region_summary import RegionComparison, compare_region
from surveys.scoring import SATISFIED_THRESHOLD
from surveys.weighting import PopulationTable

#: Topics, in order, each with the only questions it is scored on.
TopicQuestions = Mapping[str, Sequence[str]]
#: Called with (done, total) responses as a scan advances; for progress bars.
Progress = Callable[[int, int], None]

#: Responses per slice of the answers' stream: large enough that per-query overhead
#: vanishes, small enough that the lookup of a slice's responses stays small.
SLICE_RESPONSES = 25_000
#: Responses per slice of a scan for sums. Each slice returns a row per group it holds,
#: and with 2,000 municipalities × tracks × age bands × population groups nearly every few
#: respondents are a group of their own: small slices return the same groups again and
#: again, to be turned into Python objects and added up each time. A national wave of
#: 500,000 goes in two slices, one per core (7 s by group flags, against 13 s in slices of
#: 25,000); SQLite's sorter spills to disk beyond its cache, so memory stays bounded.
SUM_SLICE_RESPONSES = 250_000
#: Read connections scanning a wave's slices side by side for the ratings.
SCAN_WORKERS = max(1, min(4, os.cpu_count() or 1))
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


async def wave_survey(database: Backend, wave_id: int) -> tuple[Wave, Survey]:
    wave = await WaveRepository(database).get(wave_id)
    if wave is None:
        raise UnknownWave(wave_id)
    survey = await SurveyRepository(database).get(wave.survey_version_id)
    if survey is None:  # the foreign key makes this impossible short of a damaged file
        raise UnknownWave(wave_id)
    return wave, survey


# The SQL ---------------------------------------------------------------------------------------


def wave_responses(dialect: Dialect) -> str:
    """The FROM and WHERE of a scan: a slice (:first to :last) of the wave's responses
    (:wave), each joined to its answers.

    On SQLite, `+r.wave_id` keeps the planner off the (wave_id, respondent_id) index:
    walking responses in id order, the primary key order of answers, lets GROUP BY r.id
    and ORDER BY r.id stream without a sort over millions of rows, and a CROSS JOIN fixes
    that join order. PostgreSQL plans by its statistics and needs only the slice's range
    repeated on the answers' key (`Dialect.carried_range`).
    """
    joined = dialect.join_in_order("answers AS a", "a.response_id = r.id")
    return (
        f"FROM responses AS r {joined}"
        f" WHERE {dialect.unindexed('r.wave_id')} = :wave AND r.id BETWEEN :first AND :last"
        f"{dialect.carried_range('a.response_id', ':first', ':last')}"
    )


def group_stats_sql(
    topics: Sequence[str],
    questions: TopicQuestions | None = None,
    splits: Sequence[str] = (),
    dialect: Dialect = SQLITE,
) -> str:
    """Sums of respondents' topic scores per region × municipality × track × age band.

    Topics are parameters (:topic0…), weights too (:weight0…); overall is the weighted mean
    over the topics a respondent has a score in, exactly `surveys.aggregate.overall_score`.
    With `questions`, a topic is scored on the listed questions only (:q0_0, :q0_1, … for
    topic 0): what a comparison of two waves needs when a question changed between them.
    `splits` are SQL expressions on the response (`r`) that divide the groups further, each
    a column after the age band: the population groups of `storage.segments`.
    """
    columns = [f"t{i}" for i in range(len(topics))]
    per_topic = ", ".join(
        f"avg(CASE WHEN {_answer_counts(i, topic, questions)} THEN a.score END) AS {column}"
        for i, (topic, column) in enumerate(zip(topics, columns, strict=True))
    )
    weight = [dialect.real(f":weight{i}") for i in range(len(columns))]
    weighted = " + ".join(f"coalesce({w} * {c}, 0)" for w, c in zip(weight, columns, strict=True))
    weights = " + ".join(
        f"{dialect.truth(f'{c} IS NOT NULL')} * {w}" for w, c in zip(weight, columns, strict=True)
    )
    total, threshold = dialect.total, dialect.real(":threshold")
    sums = ", ".join(
        f"count({c}), {total(c)}, {total(f'{c} * {c}')},"
        f" {total(dialect.truth(f'{c} >= {threshold}'))}"
        for c in [*columns, "overall"]
    )
    split_columns = "".join(f", s{i}" for i in range(len(splits)))
    split_values = "".join(f" {expression} AS s{i}," for i, expression in enumerate(splits))
    return (
        "WITH per_response AS ("
        " SELECT r.region_code AS region, coalesce(r.municipality_code, '') AS municipality,"
        " r.track AS track,"
        f" r.age_band AS band,{split_values} {per_topic}"
        f" {wave_responses(dialect)} AND a.score IS NOT NULL GROUP BY r.id),"
        " scored AS ("
        f" SELECT *, ({weighted}) / nullif({weights}, 0) AS overall FROM per_response)"
        f" SELECT region, municipality, track, band{split_columns}, {sums}"
        f" FROM scored GROUP BY region, municipality, track, band{split_columns}"
    )


def _answer_counts(index: int, topic: str, questions: TopicQuestions | None) -> str:
    """The SQL test of whether an answer counts in topic `index`."""
    if questions is None:
        return f"a.topic = :topic{index}"
    marks = ", ".join(f":q{index}_{j}" for j in range(len(questions[topic])))
    return f"a.question_id IN ({marks})"


def _responses_sql(dialect: Dialect) -> str:
    return (
        "SELECT id, respondent_id, region_code, coalesce(municipality_code, ''), age_band,"
        f" track FROM responses WHERE {dialect.unindexed('wave_id')} = :wave"
        " AND id BETWEEN :first AND :last"
    )


def _answers_sql(dialect: Dialect) -> str:
    """Only the answer's own columns: the response's are fetched once per response
    (`_responses_sql`), which spares creating five Python objects per answer, a good part
    of the scan's cost."""
    return (
        "SELECT a.response_id, a.question_id, a.topic, a.value, a.answered_at "
        f"{wave_responses(dialect)} ORDER BY r.id, a.question_id"
    )


def answer_value(stored: str | None) -> int | str | None:
    """A stored JSON answer as the export writes it: number, `a|b` option ids, or text.

    Decoded here rather than with SQLite's JSON functions, which nearly double the time of
    the whole scan; the common shapes (a number, a string without escapes) need no parser.
    """
    if stored is None:
        return None
    first = stored[0]
    if first == '"':
        return stored[1:-1] if "\\" not in stored else json.loads(stored)
    if first == "[":
        return "|".join(str(item) for item in json.loads(stored))
    if stored.isdigit():
        return int(stored)
    value = json.loads(stored)
    return value if type(value) in (int, str) else json.dumps(value, ensure_ascii=False)


def export_time(stored: str) -> str:
    """`2026-11-23T10:15:00.123456Z` as stored → `2026-11-23T10:15:00Z` (ISO 8601 UTC)."""
    return stored[:19] + "Z"


@dataclass(frozen=True, slots=True)
class _Span:
    first: int
    last: int
    responses: int

    def slices(self, size: int, at_least: int = 1) -> list[tuple[int, int]]:
        """Id ranges holding about `size` of the wave's responses each, and no fewer than
        `at_least` of them (so each reader gets one) while there are responses to share."""
        if self.responses == 0:
            return []
        count = max(at_least, math.ceil(self.responses / size))
        width = math.ceil((self.last - self.first + 1) / count)
        return [
            (start, min(start + width - 1, self.last))
            for start in range(self.first, self.last + 1, width)
        ]


async def _span(connection: Reader, wave_id: int) -> _Span:
    cursor = await connection.execute(
        "SELECT min(id), max(id), count(*) FROM responses WHERE wave_id = ?", (wave_id,)
    )
    first, last, responses = await cursor.fetchone() or (None, None, 0)
    return _Span(first or 0, last or 0, responses)


async def group_stats(
    connections: Sequence[Reader],
    wave_id: int,
    survey: Survey,
    progress: Progress | None = None,
    *,
    questions: TopicQuestions | None = None,
) -> list[GroupStats]:
    """The wave's `GroupStats`, scanned in slices of responses spread over `connections`.

    `questions` limits the topics, and the questions each is scored on, to those listed
    (weights still from `survey`); by default every scored topic counts all its questions.
    """
    sums = await split_stats(connections, wave_id, survey, progress, questions=questions)
    return [
        GroupStats(region, municipality, track, band, topic, moments)
        for (region, municipality, track, band, topic), moments in sums.items()
    ]


async def split_stats(
    connections: Sequence[Reader],
    wave_id: int,
    survey: Survey,
    progress: Progress | None = None,
    *,
    questions: TopicQuestions | None = None,
    splits: Sequence[str] = (),
) -> dict[tuple[Any, ...], Moments]:
    """Moments of respondents' topic scores keyed by (region, municipality, track, age band,
    each of `splits`' values, topic): `group_stats` with groups divided further."""
    topics = tuple(questions) if questions is not None else scored_topics(survey)
    all_topics = (*topics, OVERALL)
    parameters: dict[str, Any] = {
        "wave": wave_id,
        "threshold": SATISFIED_THRESHOLD - SCORE_TOLERANCE,
    }
    for i, topic in enumerate(topics):
        described = survey.topic(topic)
        parameters[f"topic{i}"] = topic
        parameters[f"weight{i}"] = described.weight if described else 1.0
        for j, question_id in enumerate(questions[topic] if questions is not None else ()):
            parameters[f"q{i}_{j}"] = question_id
    sums: dict[tuple[Any, ...], list[float]] = {}
    width = 4 + len(splits)
    await scan_slices(
        connections,
        wave_id,
        [(group_stats_sql(topics, questions, splits, connections[0].dialect), parameters)],
        lambda _, rows: _add_sums(sums, rows, width),
        progress,
    )
    return {
        (*group, topic): Moments(int(values[j]), values[j + 1], values[j + 2], int(values[j + 3]))
        for group, values in sums.items()
        for j, topic in zip(range(0, 4 * len(all_topics), 4), all_topics, strict=True)
        if values[j]
    }


#: One query of a scan and its parameters (without :first and :last, the slice's bounds).
Query = tuple[str, Mapping[str, Any]]


async def scan_slices(
    connections: Sequence[Reader],
    wave_id: int,
    queries: Sequence[Query],
    consume: Callable[[int, list[Any]], None],
    progress: Progress | None = None,
) -> None:
    """Runs each query over every slice of the wave's responses, spread over `connections`,
    and hands `consume` (the query's index, its rows) each result as it comes.

    SQLite runs an aggregate query without holding the GIL, so each connection's reader
    thread gets a core of its own; PostgreSQL runs each connection's in a server process
    of its own. Each slice returns a row of sums per group, which `consume` adds up:
    memory does not grow with the number of answers. The connections must share one
    snapshot (`Backend.readers`).
    """
    span = await _span(connections[0], wave_id)
    slices = span.slices(SUM_SLICE_RESPONSES, at_least=len(connections))
    finished = 0

    async def scan(connection: Reader, mine: Sequence[tuple[int, int]]) -> None:
        nonlocal finished
        for first, last in mine:
            for index, (sql, parameters) in enumerate(queries):
                bounds = {"first": first, "last": last}
                cursor = await connection.execute(sql, {**parameters, **bounds})
                consume(index, list(await cursor.fetchall()))
            finished += 1
            if progress is not None:
                progress(round(span.responses * finished / len(slices)), span.responses)

    count = len(connections)
    await asyncio.gather(*(scan(c, slices[i::count]) for i, c in enumerate(connections)))


def _add_sums(
    sums: dict[tuple[Any, ...], list[float]], rows: Sequence[Sequence[Any]], width: int
) -> None:
    """Result rows (a group's `width` key columns, then its sums for every topic) into the
    running totals: one lookup per group, not per topic, as a national wave's scan by
    population group returns a row for nearly every few respondents."""
    for row in rows:
        group = tuple(row[:width])
        running = sums.get(group)
        sums[group] = list(row[width:]) if running is None else _plus(running, row[width:])


def _plus(running: list[float], more: Sequence[float]) -> list[float]:
    return [a + b for a, b in zip(running, more, strict=True)]


async def stream_answer_rows(
    connection: Reader,
    wave_id: int,
    pseudonym: Callable[[int], str],
    progress: Progress | None = None,
) -> AsyncIterator[list[AnswerRow]]:
    """Every answer of the wave as export rows, a chunk at a time, in response order.

    Works through slices of responses: a slice's responses (with their pseudonyms) are held
    in a dict while its answers stream past, so memory stays at one slice. The connection
    must be a reader (`Backend.readers`), for the slices to agree.
    """
    span = await _span(connection, wave_id)
    responses_sql = _responses_sql(connection.dialect)
    answers_sql = _answers_sql(connection.dialect)
    done = 0
    for first, last in span.slices(SLICE_RESPONSES):
        parameters = {"wave": wave_id, "first": first, "last": last}
        cursor = await connection.execute(responses_sql, parameters)
        heads = {row[0]: (wave_id, pseudonym(row[1]), *row[2:]) for row in await cursor.fetchall()}
        async for rows in connection.chunks(answers_sql, parameters, ANSWERS_CHUNK):
            yield [
                AnswerRow._make(
                    heads[response_id]
                    + (question, topic, answer_value(value), export_time(answered_at))
                )
                for response_id, question, topic, value, answered_at in rows
            ]
        done += len(heads)
        if progress is not None:
            progress(done, span.responses)


# Services -----------------------------------------------------------------------------------------


async def compute_ratings(
    database: Backend,
    wave_id: int,
    *,
    min_cell_size: int,
    population: PopulationTable | None = None,
    progress: Progress | None = None,
) -> tuple[Survey, Ratings]:
    """Every cell of a wave, suppressed, estimated and ranked. Raises `UnknownWave`."""
    _, survey = await wave_survey(database, wave_id)
    async with database.readers(SCAN_WORKERS) as connections:
        groups = await group_stats(connections, wave_id, survey, progress)
    return survey, await ratings_of(
        survey, groups, min_cell_size=min_cell_size, population=population
    )


async def ratings_of(
    survey: Survey,
    groups: Sequence[GroupStats],
    *,
    min_cell_size: int,
    population: PopulationTable | None = None,
    ranked: bool = True,
) -> Ratings:
    """The ratings of a scan's groups. Seconds of pure computation for a national wave
    (suppression, 10,000 draws per ranking): off the event loop, so the bot keeps answering
    meanwhile."""
    return await asyncio.to_thread(
        build_ratings,
        groups,
        scored_topics(survey),
        min_cell_size=min_cell_size,
        population=population,
        ranked=ranked,
        topic_weights={topic.id: topic.weight for topic in survey.topics},
    )


async def region_comparison(
    database: Backend,
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
    return compare_region(survey, ratings, wave_id, region_code, track)
