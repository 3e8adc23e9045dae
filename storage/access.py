"""What a member of staff may do, and for which regions.

Three roles. **Federal** staff work for every region and may do everything; everyone in
ADMIN_IDS is federal, so set-ups from before roles keep working. **Regional** staff work
for a list of regions: they plan, see and cancel waves that target only those regions,
and read the results of those regions, of any wave. **Analysts** read results (figures,
reports, ratings) for a list of regions or for all, and never touch a wave; the answers
file, which is microdata, only when granted.

A wave is *seen* by whoever works for one of its regions, and then only their regions'
part of it is shown; it is *managed* (cancelled) only by someone who could have planned
it, i.e. whose regions hold all of its regions. Every check here is on one record read
for the update at hand, so a change of staff applies from the next update on.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Literal

from storage.repositories.waves import Wave, WaveRepository

Role = Literal["federal", "regional", "analyst"]
ROLES: tuple[Role, ...] = ("federal", "regional", "analyst")
StaffSource = Literal["settings", "database"]

#: How "every region" is written in the audit log, the command line and the database's
#: absence of a list.
ALL_REGIONS = "all"
#: SQLite integers are 64-bit; a larger id from a forged button would raise, not miss.
MAX_WAVE_ID = 2**63 - 1


@dataclass(frozen=True, slots=True)
class StaffMember:
    telegram_id: int
    role: Role
    #: The regions they work for; None for every region (federal, or an analyst of all).
    regions: frozenset[str] | None
    #: Granted the answers file (analysts only; the other roles have it by their role).
    microdata: bool = False
    name: str | None = None
    #: ADMIN_IDS ("settings") or `civicpulse staff add` ("database").
    source: StaffSource = "database"
    added_at: str | None = None
    added_by: str | None = None

    @property
    def plans_waves(self) -> bool:
        return self.role != "analyst"

    @property
    def reads_microdata(self) -> bool:
        return self.role != "analyst" or self.microdata

    @property
    def scope(self) -> str:
        """The member's regions as the audit log and `staff list` write them."""
        return regions_text(self.regions)

    def covers(self, region_code: str) -> bool:
        return self.regions is None or region_code in self.regions

    def within(self, codes: Iterable[str]) -> list[str]:
        """The codes of `codes` this member works for, in their order."""
        return [code for code in codes if self.covers(code)]

    def sees(self, wave: Wave) -> bool:
        """Whether any part of the wave is theirs to read."""
        return self.regions is None or wave.all_regions or bool(self.within(wave.regions))

    def may_target(self, regions: Collection[str] | None) -> bool:
        """Whether they may plan a wave for `regions` (None: every region)."""
        if not self.plans_waves:
            return False
        if self.regions is None:
            return True
        return regions is not None and bool(regions) and set(regions) <= self.regions

    def manages(self, wave: Wave) -> bool:
        """Whether they may cancel the wave: the same as having been allowed to plan it."""
        return self.may_target(None if wave.all_regions else wave.regions)

    def concerning(self, wave: Wave) -> str:
        """The regions an action of theirs on `wave` concerns: the wave's that are theirs."""
        if wave.all_regions:
            return self.scope
        return regions_text(self.within(wave.regions))


def regions_text(regions: Iterable[str] | None) -> str:
    """Regions as the audit log and `staff list` write them: `all` (None) or `49,53`."""
    return ALL_REGIONS if regions is None else ",".join(sorted(regions))


def federal(telegram_id: int) -> StaffMember:
    """Someone in ADMIN_IDS."""
    return StaffMember(telegram_id, "federal", None, source="settings")


async def seen_wave(waves: WaveRepository, staff: StaffMember, wave_id: int) -> Wave | None:
    """A wave by an id typed or carried by a button, if it touches the member's regions;
    absurd ids and other regions' waves are alike not found, so nothing about them shows."""
    wave = await waves.get(wave_id) if 0 < wave_id <= MAX_WAVE_ID else None
    return wave if wave is not None and staff.sees(wave) else None


async def seen_waves(waves: WaveRepository, staff: StaffMember, count: int) -> list[Wave]:
    """The member's `count` most recent waves, newest first."""
    return [wave for wave in reversed(await waves.all()) if staff.sees(wave)][:count]
