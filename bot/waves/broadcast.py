"""Drains the invitation outbox into Telegram as fast as Telegram allows: to each person at
most once, and to everyone unless the process dies at one precise instant.

The delivery guarantee (docs/waves.md states it for operators, in the section of that name):

* Every step of a row is committed. The claimer reserves due rows a moment ahead as
  `claimed`; the starter commits the next few rows — LEAD's worth of sending
  at the configured rate, each already holding a concurrency slot — as `sending` in one
  UPDATE, and only then may the sender start their requests, each at its moment.
  After Telegram answers, the row is settled `delivered`, `blocked`, `failed` or `pending`
  again (a retry); outcomes are committed in batches every FLUSH_INTERVAL.
* Nobody ever gets the same message twice. A row is sent again only after an answer that
  says it was not delivered (429, 5xx, …) or when no connection could be made, never
  because the process stopped or the answer was lost.
* An orderly stop (SIGTERM, `stop()`) stops claiming, hands `claimed` rows and
  committed rows whose request has not started back to `pending`, waits for the
  requests in flight and commits their outcomes: across stops and restarts every
  targeted person gets the invitation exactly once.
* After a crash (kill -9, OOM) start-up puts `claimed` rows back to `pending` — their
  requests never started — and records `sending` rows as `unconfirmed`: their request
  had started, Telegram most likely accepted it, and it is NOT sent again. A person is
  missed only if the process died between committing `sending` and the request reaching
  Telegram: twenty milliseconds or so, at most the rows committed ahead (20 at 1,000/s;
  with the rate lifted, the requests a free concurrency slot lets start). Rows committed
  just before Telegram asks for a pause go back to `pending` rather than stay `sending`
  through it. The missed can still open the wave with /survey. (A power cut can also
  undo SQLite's last commits, and with them this guarantee for the last moment's rows:
  docs/waves.md, "The delivery guarantee".)

Limits (`bot.telegram.send_limits`): at most `rate` requests in any one-second window (every
attempt counts), at most one request per chat per second, and a `retry_after` from
Telegram pauses every send for that long. 403 settles the row as `blocked` and
deactivates the respondent; 400 is permanent; other error answers (5xx, …) and a
connection that could not be made are retried with exponential back-off
`RetryPolicy.max_failures` times, then settled `failed` with the reason. A network error
after the request went out (a timeout, a dropped connection) leaves its fate unknown: it
is settled `unconfirmed` and not retried.

Four tasks share the work: the claimer keeps up to two batches claimed ahead, so the
sender never waits on a SELECT; the starter commits a few rows at a time `sending`,
a little ahead of the pace (and just before a pause ends, so sending resumes the moment
Telegram allows); the sender starts each committed request as a task at its rate
token, up to `concurrency` in flight, so requests leave evenly rather than in a clump
per commit; the flusher commits outcomes in batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
)

from bot.telegram.keepalive_http import ConnectionFailed
from bot.telegram.plain_methods import SendText
from bot.telegram.send_limits import (
    PER_CHAT_INTERVAL,
    ChatSpacing,
    Clock,
    RateLimiter,
    RateWindow,
    RetryPolicy,
)
from storage.clock import utc_now
from storage.repositories.invitations import InvitationRepository, Outcome, Outgoing

log = logging.getLogger(__name__)

#: Outcomes are committed in batches at least this often (seconds), or every FLUSH_SIZE.
FLUSH_INTERVAL = 0.05
FLUSH_SIZE = 256
#: Even without a wake-up, the outbox is looked at this often (seconds).
MAX_IDLE = 30.0
#: Requests in flight when the rate is lifted; enough to hide the round trip.
UNLIMITED_CONCURRENCY = 64
#: Rows are committed `sending` this long (seconds) before a pause Telegram asked for ends,
#: so that sending resumes the moment it is allowed; committed rows that would wait longer
#: than this go back to `pending` for the pause instead.
RESUME_AHEAD = 0.005
#: Seconds of sending committed `sending` ahead of the sender: enough to ride out a claim or
#: a batch of outcomes holding the write lock (10–20 ms under load) without running dry.
LEAD = 0.02


@dataclass(frozen=True, slots=True)
class Prepared:
    """An outbox message ready to go: HTML text and its keyboard already as plain data."""

    text: str
    reply_markup: dict[str, Any]


Composer = Callable[[Outgoing], Awaitable[Prepared]]


class Broadcaster:
    """One per bot: claims due outbox rows, sends them within the limits, records outcomes."""

    def __init__(
        self,
        bot: Bot,
        outbox: InvitationRepository,
        compose: Composer,
        *,
        rate: float | None,
        paid: bool = False,
        concurrency: int | None = None,
        retry: RetryPolicy | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self._bot = bot
        self._outbox = outbox
        self._compose = compose
        self._paid = paid
        self.retry = retry or RetryPolicy()
        self._clock = clock
        self._limiter = RateLimiter(rate, clock)
        self._window = RateWindow(rate, clock)
        self._spacing = ChatSpacing(PER_CHAT_INTERVAL, clock)
        if concurrency is None:
            # Enough requests in flight to cover a 250 ms round trip at the full rate.
            concurrency = (
                UNLIMITED_CONCURRENCY if rate is None else max(4, min(256, math.ceil(rate / 4)))
            )
        self._slots = asyncio.Semaphore(concurrency)
        # Claims of about an eighth of a second of sending, at most two ahead (a row of a
        # wave closed or cancelled meanwhile is skipped when it would be committed
        # `sending`). Small because a claim holds the write lock the `sending` commits
        # wait for: claims of half a second (12–22 ms each) starved the sender and cost 3%
        # of the rate.
        self._batch = 250 if rate is None else max(1, min(250, math.ceil(rate / 8)))
        self._queue: asyncio.Queue[Outgoing | None] = asyncio.Queue()
        self._queued_chats: set[int] = set()
        self._room = asyncio.Event()
        self._paused_until = 0.0
        #: Seconds Telegram has made us wait in total (overlapping pauses counted once).
        self.paused_seconds = 0.0
        self._wake = asyncio.Event()
        self._stopped = asyncio.Event()
        self._stopping = False
        self._inflight: set[asyncio.Task[None]] = set()
        #: Rows committed `sending` whose request the sender has yet to start, and how many
        #: may wait so: LEAD's worth of sending (with the rate lifted, as many as may be in
        #: flight).
        self._committed: deque[tuple[Outgoing, Prepared | None]] = deque()
        self._lead = concurrency if rate is None else max(1, math.ceil(rate * LEAD))
        self._committed_ready = asyncio.Event()
        self._topup = asyncio.Event()
        self._topup.set()
        #: Rows taken off the queue whose request has not started yet.
        self._unstarted = 0
        self._outcomes: list[Outcome] = []
        self._dirty = asyncio.Event()
        self._flush_due = asyncio.Event()
        self._drained = False
        self._tasks: list[asyncio.Task[None]] = []

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Resume where the last run stopped, then drain the outbox until stopped."""
        if self._tasks:
            return
        recovered = await self._outbox.recover_interrupted(utc_now())
        if recovered.released:
            log.info(
                "%d claimed messages had not been started when the bot last stopped abruptly;"
                " they go out now",
                recovered.released,
            )
        if recovered.unconfirmed:
            log.warning(
                "%d messages were being sent when the bot last stopped abruptly; recorded as"
                " unconfirmed and not sent again, so that nobody gets one twice",
                recovered.unconfirmed,
            )
        self._tasks = [
            asyncio.create_task(self._flush_loop(), name="broadcast-flush"),
            asyncio.create_task(self._claim_loop(), name="broadcast-claim"),
            asyncio.create_task(self._send_loop(), name="broadcast-send"),
            asyncio.create_task(self._start_loop(), name="broadcast-start"),
        ]

    def wake(self) -> None:
        """New rows are due (a wave opened, reminders queued): look at the outbox now."""
        self._wake.set()

    async def stop(self, timeout: float = 10.0) -> None:
        """Stop claiming, let requests in flight finish and commit every outcome."""
        if not self._tasks or self._stopping:
            return
        flusher, claimer, sender, starter = self._tasks
        self._stopping = True
        self._stopped.set()
        self._wake.set()
        self._room.set()
        self._topup.set()
        self._committed_ready.set()
        self._queue.put_nowait(None)
        await asyncio.gather(claimer, sender, starter)
        self._hand_back_committed("not sent: the bot stopped", utc_now())
        unsent = [item for item in _drain(self._queue) if item is not None]
        if unsent:
            await self._outbox.release(item.id for item in unsent)
        if self._inflight:
            _, late = await asyncio.wait(self._inflight, timeout=timeout)
            if late:
                log.warning(
                    "%d sends still running at shutdown; recorded unconfirmed at the next start",
                    len(late),
                )
        self._drained = True
        self._dirty.set()
        self._flush_due.set()
        await flusher

    @property
    def idle(self) -> bool:
        """Nothing queued, in flight or waiting to be committed (for tests and benchmarks)."""
        return (
            self._queue.empty()
            and not self._unstarted
            and not self._inflight
            and not self._outcomes
        )

    # -- claiming ------------------------------------------------------------------------

    async def _claim_loop(self) -> None:
        while not self._stopping:
            if self._queue.qsize() > self._batch:
                self._room.clear()
                await self._room.wait()
                continue
            self._wake.clear()
            try:
                claim = await self._outbox.claim(utc_now(), self._batch, self._busy)
            except Exception:
                log.exception("could not claim outbox rows; trying again")
                await self._sleep(1.0)
                continue
            for item in claim.items:
                self._queued_chats.add(item.chat_id)
                self._queue.put_nowait(item)
            if not claim.items and not claim.skipped:
                await self._idle(claim.deferred)

    def _busy(self, chat_id: int) -> bool:
        """Not claimable yet: a row for this chat is queued or was sent under a second ago."""
        return chat_id in self._queued_chats or self._spacing.busy(chat_id)

    async def _idle(self, deferred: int) -> None:
        wait = MAX_IDLE
        due = await self._outbox.next_due()
        if due is not None:
            wait = min(wait, (due - utc_now()).total_seconds())
        if deferred:
            wait = min(wait, self._spacing.seconds_until_free())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), max(wait, 0.01))

    # -- sending -------------------------------------------------------------------------

    async def _start_loop(self) -> None:
        """Group commit, a little ahead of the pace. Rows taken off the queue — each holding
        a concurrency slot, each rendered — are committed `sending` in one UPDATE and handed
        to the sender, which starts each request at its own moment. At most `_lead` rows
        wait committed and unstarted (LEAD's worth of sending), topped up once half are
        gone: a commit costs about as much as ten rows in it, and requests leave evenly
        instead of in a clump after each commit.

        `stop()` wakes this loop once; a commit under way at that moment may clear the
        wake-up again (the group filled the lead), so the loop looks at `_stopping` before
        each wait rather than trusting the wake-up to last."""
        while not self._stopping:
            await self._topup.wait()
            group = await self._take_group()
            if group is None:
                return
            prepared = [(item, await self._prepare(item)) for item in group]
            # Meanwhile the rows stay `claimed`; they are committed just before a pause
            # ends, so that sending resumes the moment Telegram allows it.
            await self._wait_until_pause_nearly_over()
            if self._stopping:
                self._give_back(group)
                return
            await self._launch(prepared)

    async def _take_group(self) -> list[Outgoing] | None:
        """The next rows to commit, each with a concurrency slot: at least one (waiting for
        it and its slot), then as many as are queued, have a free slot and fit the room."""
        first = await self._queue.get()
        if first is None:
            return None
        await self._slots.acquire()
        group = [first]
        room = self._lead - len(self._committed)
        while len(group) < room and not self._queue.empty() and not self._slots.locked():
            await self._slots.acquire()  # free: returns at once
            item = self._queue.get_nowait()
            if item is None:
                self._slots.release()
                self._queue.put_nowait(None)  # stop() is waiting: seen on the next take
                break
            group.append(item)
        self._unstarted += len(group)
        if self._queue.qsize() <= self._batch:
            self._room.set()
        return group

    def _give_back(self, group: list[Outgoing]) -> None:
        """Rows taken but not committed: back on the queue, which stop() hands back."""
        for item in group:
            self._slots.release()
            self._queue.put_nowait(item)
        self._unstarted -= len(group)

    async def _launch(self, group: list[tuple[Outgoing, Prepared | None]]) -> None:
        """Commit the group `sending`, then hand it to the sender — in that order, so that a
        crash can never leave a started request looking unstarted (and send it again)."""
        while True:
            try:
                committed = await self._outbox.start_sending(
                    [item.id for item, _ in group], utc_now()
                )
                break
            except Exception:
                log.exception("could not commit %d messages as sending; trying again", len(group))
                await self._sleep(1.0)
                if self._stopping:
                    self._give_back([item for item, _ in group])
                    return
        starting = set(committed or ())
        for item, _ in group:
            if item.id not in starting:  # its wave ended, or another bot took it
                self._let_go(item)
                self._unstarted -= 1
        self._committed.extend(entry for entry in group if entry[0].id in starting)
        if len(self._committed) > self._lead // 2:
            self._topup.clear()
        self._committed_ready.set()

    async def _send_loop(self) -> None:
        """Start each committed request at its moment: a rate token each, in order. Rows
        committed just before Telegram asked for a pause are not kept `sending` through
        it — they go back to `pending`, due when it ends — so a crash during a pause
        cannot cost anyone their message."""
        while not self._stopping:
            await self._committed_ready.wait()
            if not self._committed:
                self._committed_ready.clear()
                continue
            if (pause := self._paused_until - self._clock()) > RESUME_AHEAD:
                self._hand_back_committed("not sent: Telegram asked to wait", self._resume_at())
                continue
            if pause > 0:
                await self._sleep(pause)
                continue  # the pause may have grown meanwhile: look again
            await self._limiter.acquire()
            if self._stopping or not self._committed:
                continue  # handed back meanwhile, or by stop()
            item, prepared = self._committed.popleft()
            self._unstarted -= 1
            if len(self._committed) <= self._lead // 2:
                self._topup.set()
            task = asyncio.create_task(self._send(item, prepared))
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    def _hand_back_committed(self, reason: str, due: datetime) -> None:
        """Committed rows whose requests will not start now: `pending` again, due at `due`."""
        while self._committed:
            item, _ = self._committed.popleft()
            self._unstarted -= 1
            self._let_go(item)
            self._settled(
                Outcome(item.id, item.chat_id, "pending", item.failures, reason, retry_at=due)
            )
        self._topup.set()

    def _resume_at(self) -> datetime:
        """When the current pause ends, on the outbox's clock."""
        return utc_now() + timedelta(seconds=max(0.0, self._paused_until - self._clock()))

    async def _prepare(self, item: Outgoing) -> Prepared | None:
        """The message, rendered before the commit so nothing slow sits between the commit
        and the request (it is cached); None if it cannot be — the send then fails."""
        try:
            return await self._compose(item)
        except Exception:
            return None

    async def _sleep(self, seconds: float) -> None:
        """Sleep that ends early when the broadcaster is stopped."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopped.wait(), seconds)

    def _pause(self, seconds: float) -> None:
        now = self._clock()
        until = now + seconds
        if until > self._paused_until:
            self.paused_seconds += until - max(self._paused_until, now)
            self._paused_until = until
            log.warning("Telegram asked to wait %s s; all sending paused", seconds)

    async def _send(self, item: Outgoing, prepared: Prepared | None) -> None:
        try:
            outcome = await self._attempt(item, prepared)
        finally:
            self._let_go(item)
        self._settled(outcome)

    def _let_go(self, item: Outgoing) -> None:
        """The row is done with for now: its concurrency slot is free, and its chat may be
        claimed again (once a second has passed since its last request)."""
        self._slots.release()
        self._queued_chats.discard(item.chat_id)

    def _settled(self, outcome: Outcome) -> None:
        """Queue an outcome for the next batch commit (a retry is committed at once)."""
        self._outcomes.append(outcome)
        self._dirty.set()
        if len(self._outcomes) >= FLUSH_SIZE or outcome.state == "pending":
            self._flush_due.set()

    async def _attempt(self, item: Outgoing, prepared: Prepared | None) -> Outcome:
        """One request, and what its answer means for the row."""
        try:
            if prepared is None:
                prepared = await self._compose(item)
            if not await self._issue(item):
                # A pause began since the row was committed: not sent; due after it.
                return Outcome(
                    item.id,
                    item.chat_id,
                    "pending",
                    item.failures,
                    "not sent: Telegram asked to wait",
                    retry_at=self._resume_at(),
                )
            message_id = await self._bot(
                SendText.of(item.chat_id, prepared.text, prepared.reply_markup, self._paid)
            )
        except TelegramRetryAfter as error:
            self._pause(error.retry_after)
            retry_at = utc_now() + timedelta(seconds=error.retry_after)
            return Outcome(
                item.id, item.chat_id, "pending", item.failures, error.message, retry_at=retry_at
            )
        except TelegramForbiddenError as error:
            return Outcome(item.id, item.chat_id, "blocked", item.failures, error.message)
        except TelegramBadRequest as error:
            return Outcome(item.id, item.chat_id, "failed", item.failures + 1, error.message)
        except TelegramNetworkError as error:
            if isinstance(error.__cause__, ConnectionFailed):
                return self._transient(item, error.message)  # never left: safe to retry
            # A timeout or a dropped connection after the request went out: Telegram may
            # well have delivered it, so it is not sent again (never twice).
            return Outcome(item.id, item.chat_id, "unconfirmed", item.failures, error.message)
        except TelegramAPIError as error:
            return self._transient(item, error.message)
        except Exception as error:
            log.exception("unexpected error sending message %s", item.id)
            return self._transient(item, repr(error))
        return Outcome(item.id, item.chat_id, "delivered", item.failures, message_id=message_id)

    async def _issue(self, item: Outgoing) -> bool:
        """The last checks before the request leaves: the hard rate cap, and any pause that
        began since the group was committed. False if paused: not sent, and not waiting
        either — a row committed `sending` must not linger unstarted."""
        if self._paused_until > self._clock():
            return False
        await self._window.admit()
        if self._paused_until > self._clock():
            return False
        self._spacing.started(item.chat_id)
        return True

    async def _wait_until_pause_nearly_over(self) -> None:
        """Until RESUME_AHEAD before the pause Telegram asked for ends (or stop)."""
        while (
            pause := self._paused_until - RESUME_AHEAD - self._clock()
        ) > 0 and not self._stopping:
            await self._sleep(pause)

    def _transient(self, item: Outgoing, reason: str) -> Outcome:
        failures = item.failures + 1
        if failures >= self.retry.max_failures:
            return Outcome(item.id, item.chat_id, "failed", failures, f"gave up: {reason}")
        retry_at = utc_now() + timedelta(seconds=self.retry.delay(failures))
        return Outcome(item.id, item.chat_id, "pending", failures, reason, retry_at=retry_at)

    # -- committing outcomes -------------------------------------------------------------

    async def _flush_loop(self) -> None:
        """Commit outcomes in batches: one transaction per FLUSH_INTERVAL or FLUSH_SIZE."""
        while True:
            await self._dirty.wait()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flush_due.wait(), FLUSH_INTERVAL)
            self._dirty.clear()
            self._flush_due.clear()
            batch, self._outcomes = self._outcomes, []
            if batch:
                try:
                    await self._outbox.settle(batch, utc_now())
                except Exception:
                    log.exception("could not record %d outcomes; retrying", len(batch))
                    self._outcomes[:0] = batch
                    self._dirty.set()
                    await asyncio.sleep(FLUSH_INTERVAL)
                    continue
                if any(outcome.state == "pending" for outcome in batch):
                    self.wake()  # a retry is scheduled; the idle claimer must know its time
            if self._outcomes:
                self._dirty.set()
            elif self._drained:
                return


def _drain(queue: asyncio.Queue[Outgoing | None]) -> list[Outgoing | None]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items
