"""A wave's figures by population group: the scan behind `export segments`.

One scan of the wave, the ratings' own (`storage.results.split_stats`), with each group of
respondents divided further by the groups a response declared when it started (its
`children`, `disability` and `settlement` snapshot, packed into one small integer of flags
by SQL). Python receives sums per region × municipality × track × age band × flags — at
most eight times the ratings' few thousand rows — and `surveys.segments` does the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import Set

from storage.backend import Backend
from storage.dialect import Dialect
from storage.results import SCAN_WORKERS, Progress, scored_topics, split_stats, wave_survey
from surveys.aggregate import CellKey
from surveys.model import Survey
from surveys.profile_groups import SEGMENTS
from surveys.segments import FLAG_BITS, SegmentTable, SplitStats, build_segments


def flags_sql(dialect: Dialect) -> str:
    """The response's group flags as SQL, from the snapshot columns and answers that
    `surveys.profile_groups` says make a member: each test is 0 or 1, NULL included."""
    return " | ".join(
        f"({flag} * {bit})"
        for segment, bit in FLAG_BITS.items()
        for flag in [dialect.truth(_member(segment, dialect))]
    )


def _member(segment: str, dialect: Dialect) -> str:
    described = SEGMENTS[segment]
    return dialect.same(f"r.{described.column}", f"'{described.value}'")


async def compute_segments(
    database: Backend, wave_id: int, *, min_cell_size: int, progress: Progress | None = None
) -> SegmentTable:
    """Every group's cells of the wave, suppressed and estimated. Raises `UnknownWave`."""
    _, survey = await wave_survey(database, wave_id)
    stats = await scan_by_groups(database, wave_id, survey, progress)
    return await segments_of(stats, survey, min_cell_size=min_cell_size)


async def scan_by_groups(
    database: Backend, wave_id: int, survey: Survey, progress: Progress | None = None
) -> SplitStats:
    """The wave's sums split by group flags: what the groups' file is made of, and the
    ratings' groups too (`surveys.segments.fold_groups`) where one scan must serve both."""
    async with database.readers(SCAN_WORKERS) as connections:
        flags = flags_sql(database.dialect)
        stats = await split_stats(connections, wave_id, survey, progress, splits=[flags])
    return stats  # type: ignore[return-value]


async def segments_of(
    stats: SplitStats,
    survey: Survey,
    *,
    min_cell_size: int,
    published_hidden: Set[CellKey] | None = None,
) -> SegmentTable:
    """The groups' table from a scan's sums, off the event loop: seconds of work for a
    national wave. `published_hidden`: the ratings file's hidden cells, where known."""
    return await asyncio.to_thread(
        build_segments,
        stats,
        scored_topics(survey),
        min_cell_size=min_cell_size,
        published_hidden=published_hidden,
    )
