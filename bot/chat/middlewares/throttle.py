"""Per-user flood control: a user who sends faster than `THROTTLE_RATE` is ignored for a while.

Why at the update level, before any other middleware: an ignored update must cost nothing
but a dictionary lookup — no database query, no dialog state — so that one person
hammering a button cannot slow down the thousands of others answering at the same time.

Each user has a token bucket holding up to `burst` tokens, refilled at `rate` per second;
an update spends one token, and an update that finds the bucket empty is dropped. The
first drop starts a *throttling episode* and gets one notice in the user's language; the
episode ends once the user has been quiet long enough for the bucket to fill up again,
so a persistent flooder is told once, not once per dropped update. A dropped callback
query is still answered (silently after the notice), because Telegram shows a spinner
until every query is answered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import TelegramObject, Update, User

from bot.chat.middlewares import Data, UpdateHandler
from bot.chat.texts import Texts
from bot.logging_setup import person_tag
from storage.store import Store
from surveys.text import LANGUAGES

log = logging.getLogger(__name__)

Clock = Callable[[], float]

#: How often (seconds) buckets of users who went quiet are forgotten, bounding memory.
PRUNE_INTERVAL = 60.0


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float
    throttled: bool = False


class RateLimiter:
    """The admission decision alone, with an injectable clock so tests need no waiting."""

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive; leave the middleware out to disable it")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}
        self._pruned_at = clock()

    def __len__(self) -> int:
        return len(self._buckets)

    def admit(self, user_id: int) -> tuple[bool, bool]:
        """(admitted, starts_episode): whether to handle the update, whether to send a notice."""
        now = self._clock()
        self._prune(now)
        bucket = self._buckets.get(user_id)
        if bucket is None:
            self._buckets[user_id] = _Bucket(self.burst - 1.0, now)
            return True, False
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens >= self.burst:
            bucket.throttled = False  # quiet long enough: the episode is over
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True, False
        starts = not bucket.throttled
        bucket.throttled = True
        return False, starts

    def _prune(self, now: float) -> None:
        """Drop buckets that would be full by now: forgetting them changes no decision."""
        if now - self._pruned_at < PRUNE_INTERVAL:
            return
        self._pruned_at = now
        full_after = self.burst / self.rate
        stale = [uid for uid, b in self._buckets.items() if now - b.stamp >= full_after]
        for user_id in stale:
            del self._buckets[user_id]


class ThrottleMiddleware(BaseMiddleware):
    """Outer middleware on `dispatcher.update`; see the module docstring."""

    def __init__(self, limiter: RateLimiter, store: Store, default_locale: str) -> None:
        self._limiter = limiter
        self._store = store
        self._default_locale = default_locale

    async def __call__(self, handler: UpdateHandler, event: TelegramObject, data: Data) -> Any:
        user: User | None = data.get("event_from_user")
        if user is None or not isinstance(event, Update):
            return await handler(event, data)
        admitted, starts_episode = self._limiter.admit(user.id)
        if admitted:
            return await handler(event, data)
        log.info("throttling %s (update %s dropped)", person_tag(user.id), event.update_id)
        try:
            await self._refuse(event, user, data["bot"], starts_episode)
        except TelegramAPIError as error:  # a notice is a courtesy, never worth a failure
            log.debug("throttle notice to %s failed: %s", person_tag(user.id), error)
        return None

    async def _refuse(self, update: Update, user: User, bot: Bot, notify: bool) -> None:
        """Answer a dropped button press; tell the user once per episode, privately only."""
        query = update.callback_query
        notice = await self._notice(user) if notify else None
        if query is not None:
            await bot.answer_callback_query(query.id, text=notice)
        elif notice is not None and update.message and update.message.chat.type == "private":
            await bot.send_message(update.message.chat.id, notice)

    async def _notice(self, user: User) -> str:
        """One query per episode: the language the citizen chose beats their client's."""
        respondent = await self._store.respondents.by_telegram_id(user.id)
        if respondent is not None:
            language = respondent.language
        elif user.language_code in LANGUAGES:
            language = str(user.language_code)
        else:
            language = self._default_locale
        return Texts(language)("throttle.notice")
