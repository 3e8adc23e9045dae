"""Opens and closes waves on time, with the database as the only record of what is due.

APScheduler's job stores cannot make a job survive a crash (a date job leaves its store
when it is submitted), so nothing is kept there: a periodic sweep compares the clock with
the `waves` table and moves every wave whose time has come, and exact-time jobs for the
next starts and ends are rebuilt from the table on every sweep. A start or an end missed
while the bot was down is caught by the first sweep after start-up. The `on_sweep` hook
does the same for what else falls due (reminders) and names its next moment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from storage.repositories.waves import Wave
from storage.store import Store

log = logging.getLogger(__name__)

#: How long a stop waits for a sweep under way (opening a wave queues all its invitations).
SHUTDOWN_WAIT_SECONDS = 30.0

WaveHook = Callable[[Wave], Awaitable[None]]
#: Runs at the end of every sweep; returns the next moment it needs a sweep (a reminder
#: falling due), or None.
SweepHook = Callable[[datetime], Awaitable[datetime | None]]


async def _nothing(wave: Wave) -> None:
    """Default hook: opening or closing a wave needs no follow-up."""


async def _no_follow_up(now: datetime) -> datetime | None:
    """Default sweep hook: nothing else is due."""
    return None


class WaveScheduler:
    def __init__(
        self,
        store: Store,
        on_open: WaveHook = _nothing,
        on_close: WaveHook = _nothing,
        sweep_seconds: float = 5.0,
        on_sweep: SweepHook = _no_follow_up,
    ) -> None:
        self._store = store
        self._on_open = on_open
        self._on_close = on_close
        self._on_sweep = on_sweep
        self._sweep_seconds = sweep_seconds
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._sweeps: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Async so that aiogram runs it in the event loop, which APScheduler needs."""
        self._scheduler.add_job(
            self._scheduled_sweep,
            "interval",
            seconds=self._sweep_seconds,
            id="wave-sweep",
            next_run_time=datetime.now(UTC),
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
        )
        self._scheduler.start()

    async def shutdown(self) -> None:
        """No new sweeps; the one under way finishes before the database closes."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        if self._sweeps:
            _, late = await asyncio.wait(self._sweeps, timeout=SHUTDOWN_WAIT_SECONDS)
            if late:
                log.warning("a wave sweep was still running at shutdown")

    async def _scheduled_sweep(self) -> None:
        """The sweep as APScheduler runs it: shielded, because stopping APScheduler cancels
        its running jobs, and a sweep cut between opening a wave and queuing the wave's
        invitations would leave them to the next start's repair."""
        task = asyncio.ensure_future(self.sweep())
        self._sweeps.add(task)
        task.add_done_callback(self._sweeps.discard)
        await asyncio.shield(task)

    async def sweep(self) -> None:
        """Move every wave whose start or end has passed; plan exact jobs for the next ones."""
        now = datetime.now(UTC)
        for wave in await self._store.waves.in_state("scheduled", "open"):
            if wave.ends_at <= now:
                if await self._store.waves.transition(wave.id, ("scheduled", "open"), "closed"):
                    log.info("wave %s closed", wave.id)
                    await self._on_close(wave)
            elif wave.state == "scheduled" and wave.starts_at <= now:
                if await self._store.waves.transition(wave.id, ("scheduled",), "open"):
                    log.info("wave %s opened", wave.id)
                    await self._on_open(wave)
                    self._plan(replace(wave, state="open"), now)
            else:
                self._plan(wave, now)
        follow_up = await self._on_sweep(now)
        if follow_up is not None:
            self._plan_at(follow_up, now, "follow-up")

    def _plan(self, wave: Wave, now: datetime) -> None:
        """An exact-time sweep for the wave's next transition, so it is not up to a sweep late."""
        moment = wave.starts_at if wave.state == "scheduled" else wave.ends_at
        self._plan_at(moment, now, f"wave-{wave.id}-{wave.state}")

    def _plan_at(self, moment: datetime, now: datetime, job_id: str) -> None:
        if moment <= now or (moment - now).total_seconds() > 2 * self._sweep_seconds:
            return
        self._scheduler.add_job(
            self._scheduled_sweep,
            "date",
            run_date=moment,
            id=job_id,
            replace_existing=True,
            misfire_grace_time=None,
        )
