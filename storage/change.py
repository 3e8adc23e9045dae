"""Change between two waves: both scanned on the questions they share, then paired cell by cell.

What `export change` is made from. The maths is in `surveys.change`; here are the checks
that need the database (the waves exist, differ, are closed) and the two scans.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

from storage.database import Database
from storage.repositories.waves import Wave
from storage.results import SCAN_WORKERS, group_stats, readers, wave_survey
from surveys.aggregate import Level, Ratings, build_ratings
from surveys.change import ChangeCell, Comparability, change_cells, compare_surveys
from surveys.model import Survey


class ChangeError(ValueError):
    """Two waves that cannot be compared as asked."""


@dataclass(frozen=True, slots=True)
class WaveChange:
    wave_id: int
    against_wave_id: int
    comparability: Comparability
    #: Both waves' cells, computed on the common questions with the new survey's weights.
    ratings: Ratings
    ratings_before: Ratings

    def cells(self, level: Level) -> Iterator[ChangeCell]:
        return change_cells(self.ratings, self.ratings_before, self.comparability, level)


async def compute_change(
    database: Database,
    wave_id: int,
    against_wave_id: int,
    *,
    min_cell_size: int,
    partial: bool = False,
) -> WaveChange:
    """Wave `wave_id` against the earlier `against_wave_id`.

    Raises `UnknownWave`, or `ChangeError` for the same wave twice, a wave that is not
    closed (an open one is accepted with `partial`: its answers are still coming in), or
    two survey versions without a single comparable question.
    """
    if wave_id == against_wave_id:
        raise ChangeError(f"wave {wave_id} is compared against itself; name two waves")
    wave, survey = await wave_survey(database, wave_id)
    before, survey_before = await wave_survey(database, against_wave_id)
    for checked in (wave, before):
        _require_finished(checked, partial)
    comparability = compare_surveys(survey_before, survey)
    if not comparability.questions:
        raise ChangeError(
            f"waves {wave_id} ({_name(survey)}) and {against_wave_id} ({_name(survey_before)})"
            " share no question asked the same way: nothing to compare"
        )
    # Both waves are scored like the new survey: its weights over the common questions.
    questions = comparability.questions
    async with readers(database, SCAN_WORKERS) as connections:
        groups = await group_stats(connections, wave_id, survey, questions=questions)
        groups_before = await group_stats(connections, against_wave_id, survey, questions=questions)
    topics = comparability.comparable_topics
    ratings, ratings_before = await asyncio.gather(
        asyncio.to_thread(build_ratings, groups, topics, min_cell_size=min_cell_size, ranked=False),
        asyncio.to_thread(
            build_ratings, groups_before, topics, min_cell_size=min_cell_size, ranked=False
        ),
    )
    return WaveChange(wave_id, against_wave_id, comparability, ratings, ratings_before)


def _require_finished(wave: Wave, partial: bool) -> None:
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
