"""Only the holder of the sender role sweeps waves and sends; the others stand by.

Several instances may serve one bot from one database (`docs/deployment.md`). Each
handles the updates it receives, but invitations, reminders, progress reports and the
site are the work of one of them at a time: otherwise `BROADCAST_RATE` would hold per
instance, and two sweeps would race to open the same wave. The role is a lock the
database keeps (`storage.coordination`), so it passes on without anyone writing "I am
alive" rows: an instance that stands by tries to take it every `CHECK_SECONDS`, and gets
it as soon as the holder's process or connection is gone.

A holder that finds its role gone (its database connection ended: the server restarted,
the network broke) stops sending at once and then stops the whole instance with status 1,
so that the service manager starts it afresh, to stand by behind whoever took over. A
restart is the one way back that leaves nothing half-stopped behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable

from storage.clock import utc_now
from storage.coordination import SenderRole
from storage.repositories.sender_role import SenderRoleRepository

log = logging.getLogger(__name__)

#: How often a standing-by instance tries to take the role, and the holder checks it
#: still has it. With PostgreSQL's 10 s idle limit on a silent holder this keeps a
#: takeover within 15 s.
CHECK_SECONDS = 3.0

Step = Callable[[], Awaitable[None]]


def this_instance() -> str:
    """How `civicpulse status` names this process: host and process id."""
    return f"{socket.gethostname()}:{os.getpid()}"


class SenderDuty:
    """Started and stopped with the dispatcher; starts the sending services only while
    this instance holds the role."""

    def __init__(
        self,
        role: SenderRole,
        records: SenderRoleRepository,
        start_sending: Step,
        stop_sending: Step,
        sweep: Step,
        on_lost: Step,
        instance: str | None = None,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self._role = role
        self._records = records
        self._start_sending = start_sending
        self._stop_sending = stop_sending
        self._sweep = sweep
        self._on_lost = on_lost
        self.instance = instance or this_instance()
        self._check_seconds = check_seconds
        self.holding = False
        self._watch_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Take the role now if it is free, so a single instance starts sending at once."""
        await self._try_to_take()
        if not self.holding:
            log.info("another instance holds the sender role; %s stands by", self.instance)
        self._watch_task = asyncio.create_task(self._watch(), name="sender-duty")

    async def stop(self) -> None:
        if self._watch_task is not None:
            self._watch_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch_task
        if self.holding:
            self.holding = False
            await self._stop_sending()
        await self._role.release()

    async def sweep(self) -> None:
        """A sweep now (a wave was just created) if this instance sweeps; otherwise the
        holder's next sweep, a few seconds away, finds the wave."""
        if self.holding:
            await self._sweep()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._check_seconds)
            if not self.holding:
                try:
                    await self._try_to_take()
                except Exception:
                    log.exception("could not start sending; trying again")
            elif not await self._role.still_held():
                log.error(
                    "%s lost the sender role (its database connection ended): it stops"
                    " sending, and exits for the service manager to start it afresh",
                    self.instance,
                )
                self.holding = False
                await self._stop_sending()
                await self._on_lost()
                return

    async def _try_to_take(self) -> None:
        try:
            if not await self._role.take():
                return
            await self._records.taken(self.instance, utc_now())
        except Exception:
            # The database is away: keep standing by, and try again at the next check.
            log.exception("could not take the sender role; trying again")
            await self._role.release()
            return
        log.info("%s holds the sender role: it sweeps waves and sends", self.instance)
        self.holding = True
        await self._start_sending()
