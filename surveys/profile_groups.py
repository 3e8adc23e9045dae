"""The groups the programme puts first, and which profile answers place a person in one.

The profile's optional questions (children, disability, settlement) are answered with the
values below; a segment is one column holding one value, on a respondent (their profile
now) or on a response (the profile as it was when the response started), since both carry
the same columns. One table serves the wave's audience in SQL, the offer of a wave in
Python and the figures by group, so none of them can disagree on who belongs where.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from surveys.model import AGE_BAND_IDS

#: "Prefer not to say": an answer, unlike a skipped question (stored as nothing).
UNDISCLOSED = "undisclosed"

#: Each optional question and the answers it accepts, in the order they are offered.
GROUP_QUESTIONS: dict[str, tuple[str, ...]] = {
    "children": ("yes", "no", UNDISCLOSED),
    "disability": ("yes", "no", UNDISCLOSED),
    "settlement": ("city", "town", "village", UNDISCLOSED),
}

#: "Elderly" is the oldest age band, 65 and over: no question of its own.
ELDERLY_BAND = "65+"
assert ELDERLY_BAND in AGE_BAND_IDS


@dataclass(frozen=True, slots=True)
class Segment:
    """Members are those whose `column` holds `value`."""

    column: str
    value: str


SEGMENTS: dict[str, Segment] = {
    "families_with_children": Segment("children", "yes"),
    "elderly": Segment("age_band", ELDERLY_BAND),
    "disability": Segment("disability", "yes"),
    "village": Segment("settlement", "village"),
}
SEGMENT_IDS: tuple[str, ...] = tuple(SEGMENTS)


def parse_segments(text: str) -> tuple[str, ...]:
    """Comma-separated segment ids, in the catalog's order and once each; an unknown id is
    a ValueError naming it and the known ones, so nothing half-understood is stored."""
    asked = {part.strip() for part in text.split(",") if part.strip()}
    if not asked:
        raise ValueError(f"no segments given: use any of {', '.join(SEGMENT_IDS)}")
    unknown = sorted(asked - set(SEGMENTS))
    if unknown:
        raise ValueError(
            f"unknown segment(s): {', '.join(unknown)} (known: {', '.join(SEGMENT_IDS)})"
        )
    return tuple(segment for segment in SEGMENT_IDS if segment in asked)


def segments_of(profile: Mapping[str, str | None]) -> frozenset[str]:
    """The segments a profile (column name → stored value) belongs to."""
    return frozenset(
        segment_id
        for segment_id, segment in SEGMENTS.items()
        if profile.get(segment.column) == segment.value
    )
