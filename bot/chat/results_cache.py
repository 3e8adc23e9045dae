"""Figures of closed waves, computed once and shared by every citizen who asks.

A full scan of a national wave takes seconds; without a cache, every `/results` would
repeat it. A closed wave's answers change only when someone erases their data, so the
figures are kept for a limited time and then recomputed. The change since the previous
wave scans two waves, so it is kept the same way, per pair of waves.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from storage.change import WaveChange, compute_change
from storage.database import Database
from storage.results import compute_ratings
from storage.situations import SituationsError, compute_situations
from surveys.aggregate import CellTrack, Ratings
from surveys.change import ChangeEstimate
from surveys.model import Survey
from surveys.region_summary import RegionComparison, compare_region
from surveys.situations import SCORE, SituationTable

#: Seconds a closed wave's figures are served before they are computed again.
TTL_SECONDS = 600.0

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Expiring(Generic[K, V]):
    """Values kept for `TTL_SECONDS`; one computation per key at a time, however many
    citizens ask at once."""

    def __init__(self) -> None:
        self._values: dict[K, tuple[float, V]] = {}
        self._locks: dict[K, asyncio.Lock] = {}

    async def get(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        async with self._locks.setdefault(key, asyncio.Lock()):
            cached = self._values.get(key)
            if cached is not None and time.monotonic() - cached[0] < TTL_SECONDS:
                return cached[1]
            value = await compute()
            self._values[key] = (time.monotonic(), value)
            return value

    def clear(self) -> None:
        self._values.clear()


class ClosedWaveResults:
    def __init__(self, database: Database, min_cell_size: int) -> None:
        self._database = database
        self._min_cell_size = min_cell_size
        self._figures: _Expiring[int, tuple[Survey, Ratings]] = _Expiring()
        self._changes: _Expiring[tuple[int, int], WaveChange] = _Expiring()
        self._situations: _Expiring[int, SituationTable | None] = _Expiring()

    async def figures(self, wave_id: int) -> tuple[Survey, Ratings]:
        return await self._figures.get(
            wave_id,
            lambda: compute_ratings(self._database, wave_id, min_cell_size=self._min_cell_size),
        )

    async def change(self, wave_id: int, against_wave_id: int) -> WaveChange:
        """What `export change` computes for the pair; raises `ChangeError` as it does."""
        return await self._changes.get(
            (wave_id, against_wave_id),
            lambda: compute_change(
                self._database, wave_id, against_wave_id, min_cell_size=self._min_cell_size
            ),
        )

    def forget(self) -> None:
        """After an erasure: figures computed with the erased person's answers go."""
        self._figures.clear()
        self._changes.clear()
        self._situations.clear()

    async def comparison(
        self, wave_id: int, region_code: str, track: CellTrack = "all"
    ) -> RegionComparison:
        survey, ratings = await self.figures(wave_id)
        return compare_region(survey, ratings, wave_id, region_code, track)

    async def region_change(
        self, wave_id: int, against_wave_id: int, region_code: str, track: CellTrack = "all"
    ) -> dict[str, ChangeEstimate]:
        """The region's change per topic (and `overall`), only where the change file shows
        one: a suppressed or incomparable cell is left out, so nothing is said of it."""
        change = await self.change(wave_id, against_wave_id)
        return {
            cell.topic: cell.change
            for cell in change.cells("region")
            if cell.area == (region_code,) and cell.track == track and cell.change is not None
        }

    async def situation_scores(self, wave_id: int, region_code: str) -> dict[str, float]:
        """The region's score per situation (by id), only where the situations file shows
        it; a wave of a survey without situations has none."""
        table = await self._situations.get(wave_id, lambda: self._situation_table(wave_id))
        if table is None:
            return {}
        return {
            situation: cell.figure.value
            for (area, situation, measure), cell in table.cells.items()
            if area == (region_code,) and measure == SCORE and cell.figure is not None
        }

    async def _situation_table(self, wave_id: int) -> SituationTable | None:
        try:
            found = await compute_situations(
                self._database, wave_id, min_cell_size=self._min_cell_size
            )
        except SituationsError:
            return None
        return found.table
