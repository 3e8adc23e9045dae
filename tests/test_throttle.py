"""Flood control: a user over the rate is ignored with one notice; everyone else is not."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.chat.middlewares.throttle import PRUNE_INTERVAL, RateLimiter
from bot.chat.texts import Texts
from bot.sandbox.fake_telegram import FakeTelegram
from tests.harness import Citizen, RunningBot, make_settings, start_bot, table_snapshot

NOTICE_RU = Texts("ru")("throttle.notice")
NOTICE_EN = Texts("en")("throttle.notice")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_is_admitted_then_one_notice_then_silence() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)
    assert [limiter.admit(7) for _ in range(3)] == [(True, False)] * 3
    assert limiter.admit(7) == (False, True)
    assert [limiter.admit(7) for _ in range(20)] == [(False, False)] * 20


def test_the_rate_refills_but_the_episode_lasts_until_the_user_goes_quiet() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=2, burst=3, clock=clock)
    for _ in range(4):
        limiter.admit(7)
    clock.now += 0.5  # one token back: admitted, but still the same episode
    assert limiter.admit(7) == (True, False)
    assert limiter.admit(7) == (False, False)
    clock.now += 1.5  # the bucket is full again: the episode is over
    assert [limiter.admit(7) for _ in range(3)] == [(True, False)] * 3
    assert limiter.admit(7) == (False, True)


def test_one_users_flood_never_touches_another_users_budget() -> None:
    limiter = RateLimiter(rate=1, burst=2, clock=FakeClock())
    for _ in range(100):
        limiter.admit(1)
    assert [limiter.admit(2) for _ in range(2)] == [(True, False)] * 2


def test_users_who_went_quiet_are_forgotten() -> None:
    clock = FakeClock()
    limiter = RateLimiter(rate=1, burst=2, clock=clock)
    for user_id in range(1000):
        limiter.admit(user_id)
    clock.now += PRUNE_INTERVAL
    limiter.admit(5000)
    assert len(limiter) == 1


def test_a_zero_rate_is_not_a_limiter() -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate=0, burst=1)


@pytest.fixture
async def strict(
    server: FakeTelegram, tmp_path: Path, bot_database_pass: str
) -> AsyncIterator[RunningBot]:
    """A bot allowing 3 updates at once and then practically nothing more."""
    bot = await start_bot(make_settings(server, tmp_path, throttle_rate=0.01, throttle_burst=3))
    try:
        yield bot
    finally:
        await bot.stop()


async def test_a_flooding_user_gets_one_notice_and_others_are_served(
    server: FakeTelegram, strict: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    flooder = server.user(3001, "Флуд")
    bystander = Citizen(server, server.user(3002, "Соседка"))
    before = await table_snapshot(strict.app)
    for n in range(60):
        flooder.send_text(f"спам {n}")
    reply = await bystander.command("/start")
    assert "согласие" in (reply.text or "")
    await server.wait_until_idle()

    texts = [message.text for message in flooder.messages]
    assert texts.count(NOTICE_RU) == 1
    assert len(texts) == 3 + 1  # the burst was answered, the notice, then nothing
    assert await table_snapshot(strict.app) == before
    # The log says who was throttled by a tag, never by the Telegram id.
    throttled = [r.getMessage() for r in caplog.records if "throttling" in r.getMessage()]
    assert len(throttled) == 60 - 3
    assert len({line.split(" (")[0] for line in throttled}) == 1
    assert not [r.getMessage() for r in caplog.records if "3001" in r.getMessage()]


async def test_throttled_button_presses_are_still_answered(
    server: FakeTelegram, strict: RunningBot
) -> None:
    user = server.user(3003, "Nick", language_code="en")
    citizen = Citizen(server, user)
    consent = await citizen.command("/start")
    queries = [user.press(consent.message_id, "c:no:en") for _ in range(30)]
    await server.wait_for(lambda: not server.unanswered_callbacks())
    popups = [(server.callback_answer(q) or {}).get("text") for q in queries]
    assert popups.count(NOTICE_EN) == 1
    # /start and two presses fit in the burst of three; the 28 others were dropped.
    assert popups.index(NOTICE_EN) == 2
