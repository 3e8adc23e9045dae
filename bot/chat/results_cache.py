"""Figures of closed waves, computed once and shared by every citizen who asks.

A full scan of a national wave takes seconds; without a cache, every `/results` would
repeat it. A closed wave's answers change only when someone erases their data, so the
figures are kept for a limited time and then recomputed.
"""

from __future__ import annotations

import asyncio
import time

from storage.database import Database
from storage.results import compute_ratings
from surveys.aggregate import CellTrack, Ratings
from surveys.model import Survey
from surveys.region_summary import RegionComparison, compare_region

#: Seconds a closed wave's figures are served before they are computed again.
TTL_SECONDS = 600.0


class ClosedWaveResults:
    def __init__(self, database: Database, min_cell_size: int) -> None:
        self._database = database
        self._min_cell_size = min_cell_size
        self._figures: dict[int, tuple[float, Survey, Ratings]] = {}
        self._locks: dict[int, asyncio.Lock] = {}

    async def figures(self, wave_id: int) -> tuple[Survey, Ratings]:
        """One computation per wave at a time, however many citizens ask at once."""
        lock = self._locks.setdefault(wave_id, asyncio.Lock())
        async with lock:
            cached = self._figures.get(wave_id)
            if cached is not None and time.monotonic() - cached[0] < TTL_SECONDS:
                return cached[1], cached[2]
            survey, ratings = await compute_ratings(
                self._database, wave_id, min_cell_size=self._min_cell_size
            )
            self._figures[wave_id] = (time.monotonic(), survey, ratings)
            return survey, ratings

    def forget(self) -> None:
        """After an erasure: figures computed with the erased person's answers go."""
        self._figures.clear()

    async def comparison(
        self, wave_id: int, region_code: str, track: CellTrack = "all"
    ) -> RegionComparison:
        survey, ratings = await self.figures(wave_id)
        return compare_region(survey, ratings, wave_id, region_code, track)
