"""A population group against everyone else in its area: both scores and the gap between them.

The programme puts four groups first (`SEGMENTS`). For each area × track × topic × group
this compares the group's respondents with the rest of the area's (everyone else, those who
did not say or were never asked included). The two are independent samples of different
people, so the gap (group − rest) has Welch's interval, the very maths of the change
between two waves (`surveys.change.welch_change`): a gap clearly below zero leaves the
group `worse_off`, clearly above `better_off`, otherwise `no_clear_gap`.

Suppression: group + rest = the area's cell, which the ratings file publishes. So the group
and its rest are hidden together, whenever either is small (fewer than the minimum cell
size, none at all included) and whenever the ratings file hides the area's cell; and each
side's own sums (a region = its municipalities, all = youth + general) are closed by the
same complementary suppression as the ratings (`surveys.aggregate.suppress`), until no
hidden figure is one subtraction away. Equations never cross topics or groups, so each
topic × group is settled on its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence, Set
from dataclasses import dataclass
from typing import Literal

from surveys.aggregate import (
    CELL_TRACKS,
    OVERALL,
    Area,
    CellKey,
    CellTrack,
    Estimate,
    GroupStats,
    Level,
    Moments,
    add_moments,
    build_ratings,
    cell_partitions,
    estimate,
    frozen_moments,
    suppress,
)
from surveys.change import DECLINED, IMPROVED, welch_change
from surveys.profile_groups import ELDERLY_BAND, SEGMENT_IDS
from surveys.profile_groups import SEGMENTS as SEGMENT_MEMBERS

Segment = Literal["families_with_children", "elderly", "disability", "village"]
#: The groups in the order the file lists them: those the profile defines.
SEGMENTS: tuple[Segment, ...] = SEGMENT_IDS  # type: ignore[assignment]
#: The bits of a response's group flags (`storage.segments`): one for each group a profile
#: answer places a person in; elderly is read from the age band instead.
FLAG_BITS: Mapping[Segment, int] = {
    segment: 1 << bit
    for bit, segment in enumerate(
        segment for segment in SEGMENTS if SEGMENT_MEMBERS[segment].column != "age_band"
    )
}

GapVerdict = Literal["worse_off", "better_off", "no_clear_gap"]
_VERDICTS: Mapping[str, GapVerdict] = {DECLINED: "worse_off", IMPROVED: "better_off"}

#: (region, municipality, track, age band, group flags, topic) → the respondents' moments.
SplitStats = Mapping[tuple[str, str, str, str, int, str], Moments]
Side = Literal["group", "rest"]
#: area, track, topic, segment, side
SideKey = tuple[Area, CellTrack, str, Segment, Side]
_SIDES: tuple[Side, ...] = ("group", "rest")
#: The tracks a response belongs to, as array positions.
_TRACK_INDEX: Mapping[str, int] = {"youth": 0, "general": 1}


def is_member(segment: Segment, age_band: str, flags: int) -> bool:
    bit = FLAG_BITS.get(segment)
    if bit is None:  # a group of an age band
        return age_band == SEGMENT_MEMBERS[segment].value
    return bool(flags & bit)


@dataclass(frozen=True, slots=True)
class Gap:
    gap: float
    low: float | None
    high: float | None
    verdict: GapVerdict


@dataclass(frozen=True, slots=True)
class SegmentCell:
    area: Area
    track: CellTrack
    topic: str
    segment: Segment
    suppressed: bool
    #: Both sides' respondents and estimates, and the gap: None when suppressed.
    respondents: int | None
    group: Estimate | None
    rest_respondents: int | None
    rest: Estimate | None
    gap: Gap | None


@dataclass(frozen=True, slots=True)
class SegmentTable:
    #: Scored topics in survey order, then `overall`.
    topics: tuple[str, ...]
    cells: Mapping[tuple[Area, CellTrack, str, Segment], SegmentCell]

    def rows(self, level: Level) -> Iterator[SegmentCell]:
        """One level's cells in file order: area, track, topic, then group."""
        depth = 1 if level == "region" else 2
        for area in sorted({area for area, *_ in self.cells if len(area) == depth}):
            for track in CELL_TRACKS:
                for topic in self.topics:
                    for segment in SEGMENTS:
                        yield self.cells[(area, track, topic, segment)]


def build_segments(
    stats: SplitStats,
    topics: Sequence[str],
    *,
    min_cell_size: int,
    published_hidden: Set[CellKey] | None = None,
) -> SegmentTable:
    """Every region's and municipality's cells of every group, suppressed and estimated.

    `topics` are the survey's scored topics; `overall` follows. `published_hidden` are the
    cells the wave's unweighted ratings file hides (the chat shows the same), so the two
    files are protected together; without them they are worked out here from the same
    figures.
    """
    all_topics = (*topics, OVERALL)
    sides = side_sums(stats, all_topics)
    grid = [
        (area, track, topic, segment)
        for area in {area for area, *_ in sides}
        for track in CELL_TRACKS
        for topic in all_topics
        for segment in SEGMENTS
    ]
    counts: dict[SideKey, int] = {key: moments.count for key, moments in sides.items()}
    if published_hidden is None:
        ratings = build_ratings(
            fold_groups(stats), topics, min_cell_size=min_cell_size, ranked=False
        )
        published_hidden = ratings.hidden()
    hidden = segment_hidden(counts, published_hidden, all_topics, min_cell_size)
    cells = {}
    for area, track, topic, segment in grid:
        shown = (area, track, topic, segment, "group") not in hidden
        group = estimate({0: sides[(area, track, topic, segment, "group")]}) if shown else None
        rest = estimate({0: sides[(area, track, topic, segment, "rest")]}) if shown else None
        cells[(area, track, topic, segment)] = SegmentCell(
            area=area,
            track=track,
            topic=topic,
            segment=segment,
            suppressed=not shown,
            respondents=counts[(area, track, topic, segment, "group")] if shown else None,
            group=group,
            rest_respondents=counts[(area, track, topic, segment, "rest")] if shown else None,
            rest=rest,
            gap=gap(group, rest) if group and rest else None,
        )
    return SegmentTable(all_topics, cells)


def fold_groups(stats: SplitStats) -> list[GroupStats]:
    """The ratings' groups (region × municipality × track × age band × topic) from the
    same sums split by group flags: one scan of a wave serves both files."""
    sums: dict[tuple[str, str, str, str, str], list[float]] = {}
    for (region, municipality, track, band, _, topic), moments in stats.items():
        add_moments(sums, (region, municipality, track, band, topic), moments)
    return [GroupStats(*key, moments) for key, moments in frozen_moments(sums).items()]


def side_sums(stats: SplitStats, topics: Sequence[str]) -> dict[SideKey, Moments]:
    """Each region's and municipality's group and rest, per track (`all` too) and topic.

    A national wave has half a million sums split by flags, and every one of them counts in
    4 groups × 2 areas × 2 tracks: as arrays, each municipality's sides are added up by
    `bincount` once, and regions and `all` are sums of those.
    """
    import numpy as np  # as in `surveys.rank_intervals`: only the figures pay its import

    topic_index = {topic: i for i, topic in enumerate(topics)}
    places: dict[Area, int] = {}
    cells: list[int] = []
    patterns: list[int] = []
    values: list[tuple[int, float, float, int]] = []
    for (region, municipality, track, band, flags, topic), moments in stats.items():
        if topic not in topic_index:
            continue
        place = places.setdefault((region, municipality), len(places))
        cells.append((place * 2 + _TRACK_INDEX[track]) * len(topics) + topic_index[topic])
        patterns.append(flags * 2 + (band == ELDERLY_BAND))
        values.append((moments.count, moments.total, moments.squares, moments.satisfied))
    if not places:
        return {}
    # member[segment, pattern]: whether a response of that flags × elderly pattern is in it.
    member = np.array(
        [[is_member(s, ELDERLY_BAND if p % 2 else "", p // 2) for p in range(16)] for s in SEGMENTS]
    )
    cell, pattern = np.array(cells, dtype=np.int64), np.array(patterns, dtype=np.int64)
    moments = np.array(values, dtype=np.float64).reshape(-1, 4)
    size = len(places) * 2 * len(topics)
    # Index of (cell, segment, side): side 0 is the group, 1 the rest.
    index = np.concatenate(
        [(cell * len(SEGMENTS) + s) * 2 + ~member[s][pattern] for s in range(len(SEGMENTS))]
    )
    weights = np.tile(moments, (len(SEGMENTS), 1))
    fine = np.stack(
        [np.bincount(index, weights[:, j], minlength=size * len(SEGMENTS) * 2) for j in range(4)],
        axis=-1,
    ).reshape(len(places), 2, len(topics), len(SEGMENTS), 2, 4)
    regions = {region: i for i, region in enumerate(sorted({region for region, _ in places}))}
    region_of = np.array([regions[region] for region, _ in places])
    coarse = np.zeros((len(regions), *fine.shape[1:]))
    np.add.at(coarse, region_of, fine)
    sides: dict[SideKey, Moments] = {}
    for areas, table in ((list(places), fine), ([(r,) for r in regions], coarse)):
        by_track = {"youth": table[:, 0], "general": table[:, 1], "all": table.sum(axis=1)}
        for track, figures in by_track.items():
            for area, per_topic in zip(areas, figures.tolist(), strict=True):
                for topic, per_segment in zip(topics, per_topic, strict=True):
                    for segment, per_side in zip(SEGMENTS, per_segment, strict=True):
                        for side, (n, total, squares, satisfied) in zip(
                            _SIDES, per_side, strict=True
                        ):
                            key = (area, track, topic, segment, side)
                            sides[key] = Moments(int(n), total, squares, int(satisfied))
    return sides


def gap(group: Estimate, rest: Estimate) -> Gap:
    """group − rest with Welch's 95% interval, judged on the published bounds."""
    change = welch_change(group, rest)
    return Gap(
        change.change, change.low, change.high, _VERDICTS.get(change.verdict, "no_clear_gap")
    )


def segment_hidden(
    counts: Mapping[SideKey, int],
    published_hidden: set[CellKey],
    topics: Sequence[str],
    min_cell_size: int,
) -> set[SideKey]:
    """The sides to hide: a group and its rest together whenever either is small or the
    ratings file hides their area's cell, and as many more as complementary suppression
    needs over each side's own sums (finest areas first, as `suppress` wants them)."""
    hidden: set[SideKey] = set()
    by_topic: defaultdict[tuple[str, Segment], dict[SideKey, int]] = defaultdict(dict)
    for key, count in counts.items():
        by_topic[(key[2], key[3])][key] = count
    area_counts = {(area, track, topic): 0 for area, track, topic, _, _ in counts}
    for topic in topics:
        equations = list(cell_partitions(area_counts, [topic]))
        for segment in SEGMENTS:
            mine = by_topic[(topic, segment)]
            partitions: list[tuple[SideKey, list[SideKey]]] = [
                ((*parent, segment, side), [(*child, segment, side) for child in children])
                for parent, children in equations
                for side in _SIDES
            ]
            also = {key for key in mine if key[:3] in published_hidden}
            found: set[SideKey] = set()
            while True:
                found = suppress(mine, partitions, min_cell_size, also=also | found)
                paired = found | {_partner(key) for key in found}
                if paired == found:
                    break
                found = paired
            hidden |= found
    return hidden


def _partner(key: SideKey) -> SideKey:
    area, track, topic, segment, side = key
    return (area, track, topic, segment, "rest" if side == "group" else "group")
