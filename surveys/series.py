"""A survey's waves side by side on one measure: which cells may be shown, and their lines.

A trend, and the change between two waves, need every wave's cells computed alike: on the
questions all the waves asked the same way (`surveys.change.compare_series`), with the
newest survey's topic weights. The two waves of `export change` are a series of two.

Such figures are published beside each wave's own ratings file, whose cells they often
repeat exactly (a topic none of whose questions changed), and whose counts they otherwise
come close to. So the series has one hidden set for all its waves (a cell is shown in
every wave or in none, and a change is shown only where both its ends are), made of:
- the cells each wave hides under its own suppression of the series' figures;
- the cells each wave's own ratings file hides, so nothing the ratings withhold comes back
  here, and no complement chosen differently there lets one file be subtracted from another;
- the cells some wave has nobody in;
then closed again under complementary suppression over every wave's equations
(`surveys.joint_suppression`), since a union of safe patterns need not be safe.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

# The partitions are the ratings' own equations; the series must close exactly those.
from surveys.aggregate import (
    CELL_TRACKS,
    OVERALL,
    Area,
    Cell,
    CellKey,
    CellTrack,
    Level,
    Ratings,
    cell_partitions,
)
from surveys.change import ChangeEstimate, Comparability, welch_change
from surveys.joint_suppression import joint_suppress, missing_somewhere


@dataclass(frozen=True, slots=True)
class SeriesWave:
    wave_id: int
    #: Computed on the series' common questions, with the newest survey's topic weights.
    ratings: Ratings
    #: The cells the wave's own ratings file (all its questions) hides.
    published_hidden: frozenset[CellKey]


@dataclass(frozen=True, slots=True)
class SeriesCell:
    """One wave's cell of a line, with figures only if it is comparable and shown."""

    wave_id: int
    area: Area
    track: CellTrack
    topic: str
    comparable: bool
    suppressed: bool
    cell: Cell | None
    #: Against the previous wave of the series: None for the first wave and without figures.
    change: ChangeEstimate | None


@dataclass(frozen=True, slots=True)
class WaveSeries:
    comparability: Comparability
    #: Oldest first.
    waves: tuple[SeriesWave, ...]
    #: The cells no wave of the series shows.
    hidden: frozenset[CellKey]

    @classmethod
    def build(
        cls, comparability: Comparability, waves: Sequence[SeriesWave], min_cell_size: int
    ) -> WaveSeries:
        return cls(comparability, tuple(waves), frozenset(series_hidden(waves, min_cell_size)))

    def areas(self, level: Level) -> list[Area]:
        """Areas of `level` with respondents in any wave of the series, sorted by code."""
        return sorted({area for wave in self.waves for area in wave.ratings.areas(level)})

    def lines(self, level: Level) -> Iterator[list[SeriesCell]]:
        """Area × track × topic (the topics scored in any wave, then `overall`), each a
        line through the waves."""
        topics = (*self.comparability.topics, OVERALL)
        for area in self.areas(level):
            for track in CELL_TRACKS:
                for topic in topics:
                    yield self.line(area, track, topic)

    def line(self, area: Area, track: CellTrack, topic: str) -> list[SeriesCell]:
        """One cell through the waves, oldest first, each with its change since the last."""
        if topic != OVERALL and topic not in self.comparability.questions:
            return [
                SeriesCell(w.wave_id, area, track, topic, False, False, None, None)
                for w in self.waves
            ]
        line: list[SeriesCell] = []
        previous: Cell | None = None
        for wave in self.waves:
            cell = self._shown(wave, (area, track, topic))
            change = (
                welch_change(cell.estimate, previous.estimate)
                if cell and previous and cell.estimate and previous.estimate
                else None
            )
            line.append(
                SeriesCell(wave.wave_id, area, track, topic, True, cell is None, cell, change)
            )
            previous = cell
        return line

    def _shown(self, wave: SeriesWave, key: CellKey) -> Cell | None:
        cell = wave.ratings.cells.get(key)
        if key in self.hidden or cell is None or cell.estimate is None:
            return None
        return cell


def series_hidden(waves: Sequence[SeriesWave], min_cell_size: int) -> set[CellKey]:
    """The one hidden set of the series (see the module's docstring)."""
    counts = [{key: cell.respondents for key, cell in w.ratings.cells.items()} for w in waves]
    start = missing_somewhere(counts)
    for wave in waves:
        start |= wave.ratings.hidden()
        start |= wave.published_hidden
    equations = [
        (wave_counts, list(cell_partitions(wave_counts, wave.ratings.topics)))
        for wave_counts, wave in zip(counts, waves, strict=True)
    ]
    return joint_suppress(equations, min_cell_size, also=start)
