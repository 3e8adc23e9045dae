"""What a respondent may see of their region against the whole wave, from computed ratings.

Kept apart from the scans that compute the ratings: the chat caches one wave's ratings
and answers every region's question from them, with no database in sight.
"""

from __future__ import annotations

from dataclasses import dataclass

from surveys.aggregate import OVERALL, CellTrack, Estimate, Ratings
from surveys.model import Survey
from surveys.text import LocalizedText


@dataclass(frozen=True, slots=True)
class TopicComparison:
    """One topic (or `overall`, whose title is None) for the region and the whole wave."""

    topic: str
    title: LocalizedText | None
    region: Estimate
    #: None if the whole wave's cell is itself suppressed (a tiny wave).
    wave: Estimate | None


@dataclass(frozen=True, slots=True)
class RegionComparison:
    wave_id: int
    region_code: str
    track: CellTrack
    #: Overall first, then topics in survey order; only topics whose region cell is shown.
    topics: tuple[TopicComparison, ...]
    #: The region's place by overall score among `ranked_regions` shown regions.
    rank: int | None
    ranked_regions: int


def compare_region(
    survey: Survey, ratings: Ratings, wave_id: int, region_code: str, track: CellTrack = "all"
) -> RegionComparison:
    """`region_comparison` on figures already computed, so one scan serves every region."""
    topics = []
    for topic in (OVERALL, *ratings.scored_topics):
        region = ratings.cells.get(((region_code,), track, topic))
        if region is None or region.estimate is None:
            continue
        wave = ratings.cell((), track, topic)
        described = survey.topic(topic)
        title = described.title if described else None
        topics.append(TopicComparison(topic, title, region.estimate, wave.estimate))
    overall = ratings.cells.get(((region_code,), track, OVERALL))
    ranked = [
        cell
        for area in ratings.areas("region")
        if (cell := ratings.cell(area, track, OVERALL)).rank is not None
    ]
    return RegionComparison(
        wave_id, region_code, track, tuple(topics), overall.rank if overall else None, len(ranked)
    )
