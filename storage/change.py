"""Waves compared: two of them, or every closed wave of a survey, on the questions they share.

What `export change` (a pair, or with `--survey` the whole series) and `/report`'s region
across waves are made from. The maths is in `surveys.change` and `surveys.series`; here are
the checks that need the database (the survey and waves exist, differ, are closed) and the
scans, in one snapshot: each wave on the common questions for the figures, and on all its
own questions for the cells its ratings file hides, which the comparison must hide too.
Where a wave's own questions and weights are the common ones (the same survey asked again,
the usual case), one scan is both.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from storage.backend import Backend
from storage.repositories.waves import Wave, WaveRepository
from storage.results import (
    SCAN_WORKERS,
    TopicQuestions,
    group_stats,
    scored_topics,
    wave_survey,
)
from surveys.aggregate import OVERALL, CellKey, GroupStats, Level, Ratings, build_ratings
from surveys.change import ChangeCell, change_cells, compare_series
from surveys.model import Survey
from surveys.series import SeriesWave, WaveSeries
from surveys.weighting import PopulationTable

#: A series is a trend: it takes two waves at least.
MIN_SERIES_WAVES = 2


class ChangeError(ValueError):
    """Waves that cannot be compared as asked."""


@dataclass(frozen=True, slots=True)
class WaveChange:
    wave_id: int
    against_wave_id: int
    #: The two waves as a series: the earlier, then `wave_id`.
    series: WaveSeries

    def cells(self, level: Level) -> Iterator[ChangeCell]:
        return change_cells(self.series, level)


@dataclass(frozen=True, slots=True)
class SurveySeries:
    survey_id: str
    #: Oldest first, as `series.waves`.
    waves: tuple[Wave, ...]
    series: WaveSeries


async def compute_change(
    database: Backend,
    wave_id: int,
    against_wave_id: int,
    *,
    min_cell_size: int,
    partial: bool = False,
    population: PopulationTable | None = None,
    rated: Mapping[int, Ratings] | None = None,
) -> WaveChange:
    """Wave `wave_id` against the earlier `against_wave_id`.

    Raises `UnknownWave`, `PopulationError`, or `ChangeError` for the same wave twice, a
    wave that is not closed (an open one is accepted with `partial`: its answers are still
    coming in), or two survey versions without a single comparable question. `rated`: the
    unweighted ratings of waves already computed, which spare their scan and figures
    wherever the comparison scores them on the same questions.
    """
    if wave_id == against_wave_id:
        raise ChangeError(f"wave {wave_id} is compared against itself; name two waves")
    before = await wave_survey(database, against_wave_id)
    after = await wave_survey(database, wave_id)
    for wave, _ in (after, before):
        require_finished(wave, partial)
    series = await _scan(database, [before, after], min_cell_size, population, rated or {})
    return WaveChange(wave_id, against_wave_id, series)


async def compute_survey_series(
    database: Backend,
    survey_id: str,
    *,
    min_cell_size: int,
    population: PopulationTable | None = None,
    up_to: int | None = None,
    last: int | None = None,
) -> SurveySeries:
    """Every closed wave of `survey_id` in the order they ended; with `up_to`, only those
    up to that wave (which must be closed), and with `last`, only the last so many.

    Raises `PopulationError`, or `ChangeError` for an unknown survey, fewer than two closed
    waves, or waves without a question asked the same way in all of them.
    """
    known = await database.fetch_one(
        "SELECT 1 FROM survey_versions WHERE survey_id = ? LIMIT 1", (survey_id,)
    )
    if known is None:
        raise ChangeError(f"there is no survey {survey_id}")
    closed = sorted(
        (w for w in await WaveRepository(database).in_state("closed") if w.survey_id == survey_id),
        key=lambda w: (w.ends_at, w.id),
    )
    if up_to is not None:
        ends = [i for i, wave in enumerate(closed) if wave.id == up_to]
        if not ends:
            raise ChangeError(f"wave {up_to} is not a closed wave of survey {survey_id}")
        closed = closed[: ends[0] + 1]
    if last is not None:
        closed = closed[-last:]
    if len(closed) < MIN_SERIES_WAVES:
        raise ChangeError(
            f"survey {survey_id} has {len(closed)} closed wave{'' if len(closed) == 1 else 's'}"
            f"{f' up to wave {up_to}' if up_to is not None else ''};"
            f" a series needs {MIN_SERIES_WAVES}"
        )
    waves = [await wave_survey(database, wave.id) for wave in closed]
    series = await _scan(database, waves, min_cell_size, population, {})
    return SurveySeries(survey_id, tuple(closed), series)


async def _scan(
    database: Backend,
    waves: Sequence[tuple[Wave, Survey]],
    min_cell_size: int,
    population: PopulationTable | None,
    rated: Mapping[int, Ratings],
) -> WaveSeries:
    """The waves (oldest first) on their common questions, scored like the newest survey:
    its weights over those questions. Raises `ChangeError` if they have none in common."""
    surveys = [survey for _, survey in waves]
    comparability = compare_series(surveys)
    if not comparability.questions:
        names = ", ".join(f"{wave.id} ({_name(survey)})" for wave, survey in waves)
        raise ChangeError(f"waves {names} share no question asked the same way: nothing to compare")
    questions = comparability.questions
    known = {
        wave.id: _compared_cells(rated[wave.id], comparability.comparable_topics)
        for wave, survey in waves
        if population is None and wave.id in rated and _scored_alike(questions, survey, surveys[-1])
    }
    scans: dict[int, tuple[list[GroupStats], list[GroupStats] | None]] = {}
    async with database.readers(SCAN_WORKERS) as connections:
        for wave, survey in waves:
            if wave.id in known:
                continue
            alike = _scored_alike(questions, survey, surveys[-1])
            common = await group_stats(connections, wave.id, surveys[-1], questions=questions)
            scans[wave.id] = (
                common,
                None if alike else await group_stats(connections, wave.id, survey),
            )

    def figures(
        common: list[GroupStats], own: list[GroupStats] | None, survey: Survey
    ) -> tuple[Ratings, frozenset[CellKey]]:
        # No places: neither a comparison nor a ratings file's hidden cells need them.
        ratings = build_ratings(
            common,
            comparability.comparable_topics,
            min_cell_size=min_cell_size,
            population=population,
            ranked=False,
        )
        published = ratings
        if own is not None:
            published = build_ratings(
                own,
                scored_topics(survey),
                min_cell_size=min_cell_size,
                population=population,
                ranked=False,
            )
        return ratings, published.hidden()

    # Seconds of computation for national waves: off the event loop, as the ratings are.
    computed = await asyncio.gather(
        *(
            asyncio.to_thread(figures, *scans[wave.id], survey)
            for wave, survey in waves
            if wave.id in scans
        )
    )
    fresh = iter(computed)
    built = [
        (known[wave.id], known[wave.id].hidden()) if wave.id in known else next(fresh)
        for wave, _ in waves
    ]
    series_waves = [
        SeriesWave(wave.id, ratings, hidden)
        for (wave, _), (ratings, hidden) in zip(waves, built, strict=True)
    ]
    return await asyncio.to_thread(WaveSeries.build, comparability, series_waves, min_cell_size)


def _compared_cells(ratings: Ratings, topics: Sequence[str]) -> Ratings:
    """A wave's ratings on the compared topics: the cells an unranked build of the same
    groups gives, places aside (the comparison reads none)."""
    kept = (*topics, OVERALL)
    return Ratings(kept, {key: cell for key, cell in ratings.cells.items() if key[2] in kept})


def _scored_alike(questions: TopicQuestions, survey: Survey, newest: Survey) -> bool:
    """Whether `survey`'s wave scanned on the common `questions` with `newest`'s weights
    sums exactly as its own ratings file does: the same topics on the same questions, each
    weighing the same. Then its ratings file hides what the comparison's figures hide, and
    a second scan would only repeat the first."""
    own: dict[str, set[str]] = {}
    for question in survey.questions:
        if question.is_scored:
            own.setdefault(question.topic, set()).add(question.id)
    if {topic: set(ids) for topic, ids in questions.items()} != own:
        return False
    return all(_weight(survey, topic) == _weight(newest, topic) for topic in own)


def _weight(survey: Survey, topic_id: str) -> float | None:
    topic = survey.topic(topic_id)
    return topic.weight if topic else None


def require_finished(wave: Wave, partial: bool) -> None:
    """Refuse to compare a wave whose answers are still coming in, unless `partial`."""
    if wave.state == "closed" or (wave.state == "open" and partial):
        return
    if wave.state == "open":
        raise ChangeError(
            f"wave {wave.id} is still open and its answers are still coming in;"
            " add --partial to compare it as it stands"
        )
    raise ChangeError(
        f"wave {wave.id} is {wave.state}; only a closed wave (or an open one, with --partial)"
        " can be compared"
    )


def _name(survey: Survey) -> str:
    return f"survey {survey.id} version {survey.version}"
