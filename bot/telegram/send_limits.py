"""Telegram's sending rules as small, clock-driven objects the broadcaster consults.

Kept apart from the broadcaster so each rule can be read — and tested — on its own:
the overall rate, one message per chat per second, and back-off after errors.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

Clock = Callable[[], float]

#: Share of the configured rate we aim at. The rest absorbs the jitter between our clock
#: and Telegram's, so that the rate Telegram measures stays under the configured one: at
#: 1,000/s requests reached the server 7–12 ms off the moment we counted them, which a
#: share of 99.5% could not absorb (1,003 in the server's busiest second).
HEADROOM = 0.985
PER_CHAT_INTERVAL = 1.0


class RateLimiter:
    """At most `rate` acquisitions in any one-second window, spaced as evenly as possible.

    A token bucket refilled at HEADROOM·rate, holding at most the remaining share (and at
    least one token): a window of one second then holds at most
    capacity + HEADROOM·rate ≤ rate acquisitions, yet a late wake-up of the event loop is
    made up at once instead of lowering the rate. `rate=None` lifts the limit.
    """

    def __init__(self, rate: float | None, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self._clock = clock
        if rate is None:
            self._refill = self._capacity = math.inf
        else:
            self._refill = rate * HEADROOM
            self._capacity = max(1.0, math.floor(rate * (1 - HEADROOM)))
        self._tokens = 1.0 if rate is None else self._capacity
        self._stamp = clock()

    def reserve(self) -> float:
        """Take a token if there is one (returns 0), else the seconds until there will be."""
        if self.rate is None:
            return 0.0
        now = self._clock()
        self._tokens = min(self._capacity, self._tokens + (now - self._stamp) * self._refill)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._refill

    async def acquire(self) -> None:
        while (wait := self.reserve()) > 0:
            await asyncio.sleep(wait)


class RateWindow:
    """The hard cap, checked where each request is issued: never more than `rate` requests
    within any one second (for rates under one a second, one per 1/rate seconds).

    The token bucket spaces sends evenly, but a send task starts a moment after it is
    scheduled, and on a busy event loop those moments can bunch together; this last
    check waits whenever the past second is already full. Full means the share the
    bucket aims at (985 at 1,000/s; the whole rate below 67/s): requests reach Telegram
    after varying delays, and a second as Telegram counts it must not hold more than
    `rate` when ours held exactly that.
    """

    def __init__(self, rate: float | None, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._span = 1.0 if rate is None else max(1.0, 1.0 / rate)
        self._size = (
            0
            if rate is None
            else max(1, math.floor(rate * self._span) - math.floor(rate * (1 - HEADROOM)))
        )
        self._issued: deque[float] = deque(maxlen=self._size or None)

    async def admit(self) -> None:
        if not self._size:
            return
        while len(self._issued) == self._size:
            wait = self._issued[0] + self._span - self._clock()
            if wait <= 0:
                break
            await asyncio.sleep(wait)
        self._issued.append(self._clock())


class ChatSpacing:
    """Remembers when each chat was last written to, to keep one request per chat per second.

    Only the last `interval` seconds are kept: a queue in time order says what to forget,
    so each send costs O(1) however many chats a broadcast reaches.
    """

    def __init__(self, interval: float = PER_CHAT_INTERVAL, clock: Clock = time.monotonic) -> None:
        self._interval = interval
        self._clock = clock
        self._last: dict[int, float] = {}
        self._order: deque[tuple[float, int]] = deque()

    def busy(self, chat_id: int) -> bool:
        last = self._last.get(chat_id)
        return last is not None and self._clock() - last < self._interval

    def started(self, chat_id: int) -> None:
        now = self._clock()
        self._last[chat_id] = now
        self._order.append((now, chat_id))
        while self._order and now - self._order[0][0] >= self._interval:
            moment, chat = self._order.popleft()
            if self._last.get(chat) == moment:
                del self._last[chat]

    def seconds_until_free(self) -> float:
        """When the chat written to longest ago may be written to again."""
        if not self._order:
            return 0.0
        return max(0.0, self._order[0][0] + self._interval - self._clock())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Back-off for errors that may pass (network, 5xx); 429 follows Telegram's own delay."""

    max_failures: int = 5
    first_delay: float = 2.0
    max_delay: float = 300.0

    def delay(self, failures: int) -> float:
        return min(self.max_delay, self.first_delay * 2 ** max(0, failures - 1))
