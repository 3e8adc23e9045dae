"""Creating a wave from what an administrator asked for, refusing what cannot work.

Shared by the command line and the admin chat, so both refuse the same things with the
same words and neither can create a wave the other would reject.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from storage.repositories.waves import TrackSelection
from storage.store import Store
from storage.survey_sync import StoredSurvey
from surveys.profile_groups import parse_segments as parse_segment_ids
from surveys.regions import RegionCatalog


class WavePlanError(ValueError):
    """The request cannot become a wave; the message says why in plain words."""


@dataclass(frozen=True, slots=True)
class WavePlan:
    survey_id: str
    starts_at: datetime
    ends_at: datetime
    regions: Sequence[str] | None
    tracks: TrackSelection
    remind_after_hours: float | None = None
    #: Segment ids (from `parse_segments`); empty for everyone.
    segments: tuple[str, ...] = ()


def parse_regions(text: str, catalog: RegionCatalog) -> list[str] | None:
    """`all` or comma-separated region codes; None means every region."""
    if text.strip().lower() == "all":
        return None
    codes = [code.strip() for code in text.split(",") if code.strip()]
    if not codes:
        raise WavePlanError("no regions given: use `all` or codes such as 49,65")
    unknown = [code for code in codes if catalog.region(code) is None]
    if unknown:
        raise WavePlanError(f"unknown region code(s): {', '.join(unknown)}")
    return codes


def parse_segments(text: str | None) -> tuple[str, ...]:
    """`--segments families_with_children,disability`; none given aims at everyone."""
    if text is None:
        return ()
    try:
        return parse_segment_ids(text)
    except ValueError as error:
        raise WavePlanError(str(error)) from None


async def create_wave(
    store: Store,
    surveys: dict[str, StoredSurvey],
    plan: WavePlan,
    created_by: int | None = None,
    now: datetime | None = None,
) -> int:
    now = now or datetime.now(UTC)
    stored = surveys.get(plan.survey_id)
    if stored is None:
        known = ", ".join(sorted(surveys)) or "none"
        raise WavePlanError(f"unknown survey `{plan.survey_id}` (loaded surveys: {known})")
    if plan.ends_at <= plan.starts_at:
        raise WavePlanError("the end must be after the start")
    if plan.ends_at <= now:
        raise WavePlanError("that wave would already be over: its end is in the past")
    if plan.remind_after_hours is not None and plan.remind_after_hours <= 0:
        raise WavePlanError("--remind-after must be a positive number of hours")
    return await store.waves.create(
        stored.version_id,
        plan.starts_at,
        plan.ends_at,
        plan.regions,
        plan.tracks,
        plan.remind_after_hours,
        created_by,
        plan.segments,
    )
