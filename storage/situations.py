"""A wave's life situations: the scan behind `export situations`, and its refusals.

Two queries per slice of the wave's responses, through the ratings' slice scan
(`storage.results.scan_slices`): the sums of each respondent's situation score per region ×
municipality × situation, and the count of each distinct answer to the situations' other
questions per region × municipality × question — a histogram, small and exact, from which
medians and shares are taken without a row per respondent. `surveys.situations` does the
rest.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from storage.backend import Backend, Reader
from storage.change import require_finished
from storage.dialect import Dialect
from storage.results import (
    SCAN_WORKERS,
    Progress,
    Query,
    answer_value,
    scan_slices,
    wave_responses,
    wave_survey,
)
from surveys.aggregate import Level, Moments
from surveys.model import Survey
from surveys.situations import (
    Measure,
    SituationLine,
    SituationTable,
    build_situations,
    comparable_measures,
    situation_measures,
)

_AREA = "r.region_code AS region, coalesce(r.municipality_code, '') AS municipality"


class SituationsError(ValueError):
    """A wave (or pair of waves) without situations to report."""


def _marks(prefix: str, count: int) -> str:
    return ", ".join(f":{prefix}{i}" for i in range(count))


def score_sql(questions: int, dialect: Dialect) -> str:
    """Sums of respondents' situation scores per region × municipality × situation; the
    scored questions are :sq0…, each with its situation :ss0…"""
    situation = " ".join(f"WHEN :sq{i} THEN :ss{i}" for i in range(questions))
    total = dialect.total
    return (
        f"WITH per_response AS (SELECT {_AREA},"
        f" CASE a.question_id {situation} END AS situation, avg(a.score) AS score"
        f" {wave_responses(dialect)} AND a.question_id IN ({_marks('sq', questions)})"
        " AND a.score IS NOT NULL GROUP BY r.id, situation)"
        f" SELECT region, municipality, situation, count(*), {total('score')},"
        f" {total('score * score')} FROM per_response GROUP BY region, municipality, situation"
    )


def answer_counts_sql(questions: int, dialect: Dialect) -> str:
    """How many gave each answer to the questions :hq0… per region × municipality."""
    return (
        f"SELECT {_AREA}, a.question_id, a.value, count(*) {wave_responses(dialect)}"
        f" AND a.question_id IN ({_marks('hq', questions)}) AND a.value IS NOT NULL"
        " GROUP BY region, municipality, a.question_id, a.value"
    )


async def _scan(
    connections: Sequence[Reader],
    wave_id: int,
    measures: Sequence[Measure],
    min_cell_size: int,
    progress: Progress | None,
) -> SituationTable:
    scored = {q: m.situation for m in measures if m.kind == "score" for q in m.questions}
    counted = sorted({q for m in measures if m.kind != "score" for q in m.questions})
    dialect = connections[0].dialect
    queries: list[Query] = []
    #: Whether each query is the scores' (else the answer counts').
    is_score: list[bool] = []
    parameters: dict[str, Any] = {"wave": wave_id}
    for i, (question, situation) in enumerate(scored.items()):
        parameters |= {f"sq{i}": question, f"ss{i}": situation}
    if scored:
        queries.append((score_sql(len(scored), dialect), parameters))
        is_score.append(True)
    if counted:
        marks = {f"hq{i}": question for i, question in enumerate(counted)}
        queries.append((answer_counts_sql(len(counted), dialect), {"wave": wave_id, **marks}))
        is_score.append(False)
    sums: defaultdict[tuple[str, str, str], Moments] = defaultdict(Moments)
    counts: defaultdict[tuple[str, str, str], defaultdict[int | str, int]] = defaultdict(
        lambda: defaultdict(int)
    )

    def consume(index: int, rows: list[Any]) -> None:
        if is_score[index]:
            for region, municipality, situation, n, total, squares in rows:
                sums[(region, municipality, situation)] += Moments(n, total, squares)
        else:
            for region, municipality, question, value, n in rows:
                answer = answer_value(value)
                if isinstance(answer, int | str):
                    counts[(region, municipality, question)][answer] += n

    await scan_slices(connections, wave_id, queries, consume, progress)
    return await asyncio.to_thread(
        build_situations, measures, sums, counts, min_cell_size=min_cell_size
    )


@dataclass(frozen=True, slots=True)
class WaveSituations:
    wave_id: int
    table: SituationTable
    #: The earlier wave compared against, its table and the measures that compare.
    against_wave_id: int | None = None
    before: SituationTable | None = None
    comparable: frozenset[tuple[str, str]] = frozenset()

    def lines(self, level: Level) -> list[SituationLine]:
        return list(self.table.lines(level, self.before, self.comparable))


async def compute_situations(
    database: Backend,
    wave_id: int,
    *,
    min_cell_size: int,
    against: int | None = None,
    partial: bool = False,
    progress: Progress | None = None,
) -> WaveSituations:
    """The wave's situations, and with `against` that wave's too, in one snapshot.

    Raises `UnknownWave`, `ChangeError` when compared waves are not closed (an open one is
    accepted with `partial`, as by `export change`), or `SituationsError` for a survey
    without situations, the same wave twice, or an earlier wave that measured none of them
    the same way.
    """
    if against == wave_id:
        raise SituationsError(f"wave {wave_id} is compared against itself; name two waves")
    wave, survey = await wave_survey(database, wave_id)
    measures = _measures(wave_id, survey)
    earlier: Survey | None = None
    comparable: frozenset[tuple[str, str]] = frozenset()
    if against is not None:
        earlier_wave, earlier = await wave_survey(database, against)
        comparable = comparable_measures(earlier, survey)
        if not comparable:
            raise SituationsError(
                f"waves {wave_id} and {against} share no situation measure asked the same way:"
                " nothing to compare"
            )
        for compared in (earlier_wave, wave):
            require_finished(compared, partial)
    async with database.readers(SCAN_WORKERS) as connections:
        table = await _scan(connections, wave_id, measures, min_cell_size, progress)
        before = None
        if earlier is not None and against is not None:
            old = situation_measures(earlier)
            before = await _scan(connections, against, old, min_cell_size, None)
    return WaveSituations(wave_id, table, against, before, comparable)


def _measures(wave_id: int, survey: Survey) -> tuple[Measure, ...]:
    measures = situation_measures(survey)
    if not measures:
        raise SituationsError(
            f"wave {wave_id} asked survey {survey.id} version {survey.version},"
            " which has no situations"
        )
    return measures
