"""What an open wave owes its audience: one invitation each, later one reminder each.

This module decides *who* and *what*; `bot.waves.broadcast` decides *when* and *how fast*. Both
meet in the outbox table, so everything here is idempotent and can be re-run after a
crash: filling is guarded by the wave's `invited_at` mark and the outbox's unique key,
and reminders by that same key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.chat.keyboards import invitation_keyboard
from bot.chat.texts import Texts
from bot.waves.broadcast import Prepared
from bot.waves.invitation_text import invitation_message
from storage.clock import utc_now
from storage.repositories.invitations import Outgoing
from storage.repositories.waves import TrackSelection, Wave
from storage.store import Store
from surveys.model import AGE_BAND_IDS, Survey
from surveys.targeting import track_for

log = logging.getLogger(__name__)


def targeted_age_bands(survey: Survey, tracks: TrackSelection) -> list[str]:
    """The age bands whose track the wave targets: bands never straddle the youth range
    (the survey model guarantees it), so "track" becomes a plain list for SQL."""
    return [band for band in AGE_BAND_IDS if tracks in ("all", track_for(survey, band))]


class WaveOutbox:
    """Fills the outbox when a wave opens and queues reminders as they fall due."""

    def __init__(self, store: Store, wake: Callable[[], None]) -> None:
        self._store = store
        self._wake = wake

    async def open(self, wave: Wave) -> int:
        """Invite the wave's audience (once; a second call does nothing)."""
        survey = await self._store.surveys.get(wave.survey_version_id)
        if survey is None:
            log.error("wave %s: its survey version %s is missing", wave.id, wave.survey_version_id)
            return 0
        bands = targeted_age_bands(survey, wave.tracks)
        invited = await self._store.invitations.fill(wave.id, bands, utc_now())
        if invited is None:
            return 0
        log.info("wave %s: %d invitations queued", wave.id, invited)
        self._wake()
        return invited

    async def follow_up(self, now: datetime) -> datetime | None:
        """Each sweep: heal unfilled open waves, queue due reminders; next reminder's time."""
        for wave_id in await self._store.invitations.unfilled_open_waves():
            wave = await self._store.waves.get(wave_id)
            if wave is not None:
                await self.open(wave)
        upcoming: list[datetime] = []
        for wave in await self._store.waves.in_state("open"):
            if not _reminds_in_time(wave):
                continue
            delay = timedelta(hours=wave.remind_after_hours or 0)
            queued = await self._store.invitations.queue_reminders(wave.id, now - delay, now)
            if queued:
                log.info("wave %s: %d reminders queued", wave.id, queued)
                self._wake()
            due: list[datetime] = []
            first = await self._store.invitations.first_unreminded(wave.id)
            if first is not None:
                due.append(first + delay)
            if await self._store.invitations.unsettled(wave.id):
                due.append(now + delay)  # invitations still going out fall due after that
            upcoming += [moment for moment in due if moment < wave.ends_at]
        return min(upcoming, default=None)


def _reminds_in_time(wave: Wave) -> bool:
    """A reminder due after the wave's end can never be sent (and a huge delay would not
    even fit a timedelta), so such a wave is not looked at for reminders."""
    hours = wave.remind_after_hours
    return hours is not None and hours * 3600 < (wave.ends_at - wave.starts_at).total_seconds()


class InvitationComposer:
    """Writes an invitation or a reminder in the respondent's language.

    Every message of one wave, kind and language is the same, so each is rendered once.
    """

    def __init__(self, store: Store, zone: ZoneInfo) -> None:
        self._store = store
        self._zone = zone
        self._cache: dict[tuple[int, str, str], Prepared] = {}

    async def __call__(self, item: Outgoing) -> Prepared:
        key = (item.wave_id, item.kind, item.language)
        message = self._cache.get(key)
        if message is None:
            message = self._cache[key] = await self._render(item)
        return message

    async def _render(self, item: Outgoing) -> Prepared:
        wave = await self._store.waves.get(item.wave_id)
        survey = await self._store.surveys.get(wave.survey_version_id) if wave else None
        if wave is None or survey is None:
            raise LookupError(f"wave {item.wave_id} or its survey is gone")
        texts = Texts(item.language)
        text, button = invitation_message(survey, item.kind, texts, wave.ends_at, self._zone)
        markup = invitation_keyboard(wave.id, button)
        return Prepared(text, markup.model_dump(exclude_none=True))
