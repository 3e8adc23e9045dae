"""A wave's figures — invitations, deliveries, starts, completions — overall and per region.

Computed from the outbox and the responses alone, so the admin's progress message in chat,
`/stats` and `civicpulse wave stats` in another process all show the same numbers, and a
restart loses none of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta

from storage.clock import from_db, to_db, utc_now
from storage.repositories.invitations import DELIVERED, UNSETTLED
from storage.repositories.waves import Wave
from storage.store import Store

#: The current sending rate is measured over this many recent seconds.
RATE_WINDOW = timedelta(seconds=10)


@dataclass(frozen=True, slots=True)
class Figures:
    """Counts for one region (or the whole wave).

    `delivered` includes `unconfirmed`: invitations whose request had started when the bot
    crashed, so their answer was never recorded; Telegram most likely accepted them, and
    they are not sent again (docs/waves.md, "The delivery guarantee"). `unconfirmed` is
    that part of `delivered`, shown apart. `reached` counts people the wave got to: an
    invitation was delivered, or they started on their own (e.g. registered while it was
    open). Completion rate is completed ÷ reached.
    """

    invited: int = 0
    delivered: int = 0
    unconfirmed: int = 0
    blocked: int = 0
    failed: int = 0
    waiting: int = 0
    skipped: int = 0
    reminded: int = 0
    started: int = 0
    completed: int = 0
    reached: int = 0

    @property
    def settled(self) -> int:
        """Invitations whose sending is over, whatever the result."""
        return self.delivered + self.blocked + self.failed

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.reached if self.reached else None

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


@dataclass(frozen=True, slots=True)
class WaveStats:
    wave: Wave
    total: Figures
    regions: dict[str, Figures] = field(default_factory=dict)
    #: Settled messages (invitations and reminders) per second over the last RATE_WINDOW.
    rate: float = 0.0

    @property
    def sending(self) -> bool:
        return self.total.waiting > 0

    def within(self, regions: frozenset[str] | None) -> WaveStats:
        """The part of the wave in `regions` (None: all of it), as a regional member sees a
        national wave: the same per-region figures, and a total that is their sum. The
        sending rate stays the wave's; no view shows it per region."""
        if regions is None:
            return self
        shown = {code: figures for code, figures in self.regions.items() if code in regions}
        return replace(self, total=sum(shown.values(), Figures()), regions=shown)

    def seconds_left(self, configured_rate: float) -> float:
        """Time to send what is waiting, at the measured rate (or the configured one)."""
        rate = self.rate if self.rate > 0 else configured_rate
        return self.total.waiting / rate if rate > 0 else 0.0


async def wave_stats(store: Store, wave: Wave, now: datetime | None = None) -> WaveStats:
    now = now or utc_now()
    db = store.database
    regions: dict[str, Figures] = {}

    def bump(region: str, **counts: int) -> None:
        current = regions.get(region, Figures())
        regions[region] = replace(
            current, **{k: getattr(current, k) + v for k, v in counts.items()}
        )

    for row in await db.fetch_all(
        "SELECT region_code, kind, state, COUNT(*) AS n FROM invitations WHERE wave_id = ?"
        " GROUP BY region_code, kind, state",
        (wave.id,),
    ):
        region, n, state = row["region_code"], row["n"], row["state"]
        if row["kind"] == "reminder":
            bump(region, reminded=n if state in DELIVERED else 0)
            bump(region, waiting=n if state in UNSETTLED else 0)
            continue
        bump(region, invited=n)
        if state in UNSETTLED:
            bump(region, waiting=n)
        elif state == "unconfirmed":
            bump(region, delivered=n, unconfirmed=n)
        else:
            bump(region, **{state: n})
    for row in await db.fetch_all(
        "SELECT region_code, COUNT(*) AS started, COUNT(completed_at) AS completed,"
        " COUNT(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM invitations i"
        "   WHERE i.wave_id = s.wave_id AND i.respondent_id = s.respondent_id"
        "   AND i.kind = 'invitation' AND i.state IN ('delivered', 'unconfirmed'))) AS uninvited"
        " FROM responses s WHERE s.wave_id = ? GROUP BY region_code",
        (wave.id,),
    ):
        bump(
            row["region_code"],
            started=row["started"],
            completed=row["completed"],
            reached=row["uninvited"],
        )
    regions = {
        code: replace(figures, reached=figures.reached + figures.delivered)
        for code, figures in sorted(regions.items())
    }
    total = sum(regions.values(), Figures())
    return WaveStats(wave, total, regions, await _rate(store, wave.id, now))


async def _rate(store: Store, wave_id: int, now: datetime) -> float:
    """Sends settled recently; `unconfirmed` rows are left out: they are settled in one go
    at start-up, not sent at any rate."""
    row = await store.database.fetch_one(
        "SELECT COUNT(*) AS n, MIN(updated_at) AS first FROM invitations"
        " WHERE wave_id = ? AND state IN ('delivered', 'blocked', 'failed') AND updated_at >= ?",
        (wave_id, to_db(now - RATE_WINDOW)),
    )
    if row is None or not row["n"]:
        return 0.0
    span = (now - from_db(row["first"])).total_seconds()
    return float(row["n"]) / max(span, 1.0)
