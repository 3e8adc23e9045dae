"""Publishing the public site when a wave closes (`PUBLISH_DIR`).

A national wave's site takes seconds to compute and write, and a sweep must not wait for
it (nor the next wave's opening): the scheduler's close hook only starts the publishing,
which runs in the background, one site at a time. A failure is logged and the previous site
stays up (`storage.site.write_site` swaps a whole folder in or nothing); the bot carries on.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import tzinfo
from pathlib import Path

from storage.database import Database
from storage.repositories.waves import Wave
from storage.site import publish_site
from surveys.regions import RegionCatalog

log = logging.getLogger(__name__)


class SitePublisher:
    def __init__(
        self,
        database: Database,
        directory: Path,
        *,
        min_cell_size: int,
        catalog: RegionCatalog,
        zone: tzinfo,
    ) -> None:
        self._database = database
        self._directory = directory
        self._min_cell_size = min_cell_size
        self._catalog = catalog
        self._zone = zone
        self._one_at_a_time = asyncio.Lock()
        self._running: set[asyncio.Task[None]] = set()

    async def on_close(self, wave: Wave) -> None:
        """The scheduler's close hook: starts publishing and returns at once."""
        task = asyncio.create_task(self.publish(wave.id), name=f"publish-wave-{wave.id}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def publish(self, wave_id: int) -> None:
        """Publishes the wave's site; logs, never raises, a failure."""
        async with self._one_at_a_time:
            try:
                published = await publish_site(
                    self._database,
                    wave_id,
                    self._directory,
                    min_cell_size=self._min_cell_size,
                    catalog=self._catalog,
                    zone=self._zone,
                )
            except Exception:
                log.exception("publishing wave %s's site into %s failed", wave_id, self._directory)
                return
        log.info(
            "wave %s's site published: %s files in %s",
            wave_id,
            published.files,
            published.directory,
        )

    async def stop(self) -> None:
        """Lets a publish under way finish before the database closes."""
        if self._running:
            await asyncio.wait(self._running)
