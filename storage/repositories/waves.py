"""Waves: one run of a survey over a period for a chosen audience."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from storage.backend import Backend, Row, returned_id
from storage.clock import from_db, now_db, to_db

WaveState = Literal["scheduled", "open", "closed", "cancelled"]
TrackSelection = Literal["all", "youth", "general"]


@dataclass(frozen=True, slots=True)
class Wave:
    id: int
    survey_version_id: int
    survey_id: str
    survey_version: int
    starts_at: datetime
    ends_at: datetime
    all_regions: bool
    regions: tuple[str, ...]
    tracks: TrackSelection
    remind_after_hours: float | None
    state: WaveState
    #: The administrator (Telegram id) who created it in chat; None from the command line.
    created_by: int | None = None
    #: The segments (surveys.profile_groups) it is aimed at, any of which admits a person;
    #: empty for everyone.
    segments: tuple[str, ...] = ()

    def covers_region(self, region_code: str | None) -> bool:
        return self.all_regions or region_code in self.regions

    def targets(self, region_code: str | None, track: str, segments: frozenset[str]) -> bool:
        """Whether a person of this region, track and segments is in the wave's audience;
        the outbox asks the same in SQL (storage.repositories.invitations)."""
        return (
            self.covers_region(region_code)
            and self.tracks in ("all", track)
            and (not self.segments or not segments.isdisjoint(self.segments))
        )

    @classmethod
    def from_row(cls, row: Row) -> Wave:
        codes = row["codes"]
        return cls(
            id=row["id"],
            survey_version_id=row["survey_version_id"],
            survey_id=row["survey_id"],
            survey_version=row["survey_version"],
            starts_at=from_db(row["starts_at"]),
            ends_at=from_db(row["ends_at"]),
            all_regions=bool(row["all_regions"]),
            regions=tuple(sorted(codes.split(","))) if codes else (),
            tracks=row["tracks"],
            remind_after_hours=row["remind_after_hours"],
            state=row["state"],
            created_by=row["created_by"],
            segments=tuple(row["segments"].split(",")) if row["segments"] else (),
        )


class WaveRepository:
    def __init__(self, database: Backend) -> None:
        self._db = database
        codes = database.dialect.join_text("region_code")
        self._select = (
            "SELECT w.*, v.survey_id, v.version AS survey_version,"
            f" (SELECT {codes} FROM wave_regions r WHERE r.wave_id = w.id) AS codes"
            " FROM waves w JOIN survey_versions v ON v.id = w.survey_version_id"
        )

    async def create(
        self,
        survey_version_id: int,
        starts_at: datetime,
        ends_at: datetime,
        regions: Sequence[str] | None,
        tracks: TrackSelection,
        remind_after_hours: float | None = None,
        created_by: int | None = None,
        segments: Sequence[str] = (),
    ) -> int:
        """`regions=None` targets every region, including ones added to the catalog later;
        no `segments`, everyone in them."""
        async with self._db.transaction() as connection:
            wave_id = await returned_id(
                await connection.execute(
                    "INSERT INTO waves (survey_version_id, starts_at, ends_at, all_regions, tracks,"
                    " remind_after_hours, created_by, segments, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
                    (
                        survey_version_id,
                        to_db(starts_at),
                        to_db(ends_at),
                        int(regions is None),
                        tracks,
                        remind_after_hours,
                        created_by,
                        ",".join(segments) or None,
                        now_db(),
                    ),
                )
            )
            await connection.executemany(
                "INSERT INTO wave_regions (wave_id, region_code) VALUES (?, ?)",
                [(wave_id, code) for code in sorted(set(regions or ()))],
            )
        return wave_id

    async def get(self, wave_id: int) -> Wave | None:
        row = await self._db.point_fetch(f"{self._select} WHERE w.id = ?", (wave_id,))
        return Wave.from_row(row) if row else None

    async def all(self) -> list[Wave]:
        return [
            Wave.from_row(row) for row in await self._db.fetch_all(f"{self._select} ORDER BY w.id")
        ]

    async def in_state(self, *states: WaveState) -> list[Wave]:
        marks = ", ".join("?" for _ in states)
        rows = await self._db.fetch_all(
            f"{self._select} WHERE w.state IN ({marks}) ORDER BY w.starts_at, w.id", states
        )
        return [Wave.from_row(row) for row in rows]

    async def previous_closed(self, wave_id: int) -> Wave | None:
        """The closed wave of the same survey id that ended last before `wave_id` ended: what
        a citizen's "since last time" is measured against. By survey id, not version, since a
        new version still compares on the questions it kept; ties on the end go to the later id.
        """
        row = await self._db.fetch_one(
            f"{self._select} JOIN waves this ON this.id = ?"
            " JOIN survey_versions this_v ON this_v.id = this.survey_version_id"
            " WHERE v.survey_id = this_v.survey_id AND w.state = 'closed'"
            " AND w.ends_at < this.ends_at ORDER BY w.ends_at DESC, w.id DESC LIMIT 1",
            (wave_id,),
        )
        return Wave.from_row(row) if row else None

    async def open_in_region(self, region_code: str | None) -> list[Wave]:
        """Open waves for a region; the track check needs the survey's youth range."""
        return [wave for wave in await self.in_state("open") if wave.covers_region(region_code)]

    async def transition(
        self, wave_id: int, from_states: Sequence[WaveState], to: WaveState
    ) -> bool:
        """Moves a wave only from an expected state, so two actors cannot both move it."""
        marks = ", ".join("?" for _ in from_states)
        changed = await self._db.execute(
            f"UPDATE waves SET state = ? WHERE id = ? AND state IN ({marks})",
            (to, wave_id, *from_states),
        )
        return changed > 0
