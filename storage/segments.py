"""A wave's figures by population group: the scan behind `export segments`.

One scan of the wave, the ratings' own (`storage.results.split_stats`), with each group of
respondents divided further by the groups a response declared when it started (its
`children`, `disability` and `settlement` snapshot, packed into one small integer of flags
by SQL). Python receives sums per region × municipality × track × age band × flags — at
most eight times the ratings' few thousand rows — and `surveys.segments` does the rest.
"""

from __future__ import annotations

import asyncio

from storage.database import Database
from storage.results import SCAN_WORKERS, Progress, readers, scored_topics, split_stats, wave_survey
from surveys.profile_groups import SEGMENTS
from surveys.segments import FLAG_BITS, SegmentTable, build_segments


def flags_sql() -> str:
    """The response's group flags as SQL, from the snapshot columns and answers that
    `surveys.profile_groups` says make a member: `IS` is 0 or 1, NULL included."""
    return " | ".join(
        f"((r.{SEGMENTS[segment].column} IS '{SEGMENTS[segment].value}') * {bit})"
        for segment, bit in FLAG_BITS.items()
    )


async def compute_segments(
    database: Database, wave_id: int, *, min_cell_size: int, progress: Progress | None = None
) -> SegmentTable:
    """Every group's cells of the wave, suppressed and estimated. Raises `UnknownWave`."""
    _, survey = await wave_survey(database, wave_id)
    async with readers(database, SCAN_WORKERS) as connections:
        stats = await split_stats(connections, wave_id, survey, progress, splits=[flags_sql()])
    return await asyncio.to_thread(
        build_segments,
        stats,  # type: ignore[arg-type]
        scored_topics(survey),
        min_cell_size=min_cell_size,
    )
