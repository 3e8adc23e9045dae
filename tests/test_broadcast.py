"""The broadcaster against Telegram's rules and failures, judged by the server's own clock.

Every respondent reachable gets the invitation exactly once whatever Telegram answers,
the rates are never exceeded, and stopping — orderly or by SIGKILL — loses nobody.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import sqlite3
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.sandbox.fake_telegram import FakeTelegram, Fault, FaultResult, RecordedRequest
from bot.send_limits import ChatSpacing, RateLimiter, RetryPolicy
from bot.settings import Settings
from storage.database import Database
from storage.store import Store
from storage.survey_sync import sync_surveys
from storage.wave_planning import WavePlan, create_wave
from tests.harness import (
    RunningBot,
    add_respondents,
    make_settings,
    start_bot,
    wait_until_sent,
    wave_messages,
)

#: How far the server's arrival times may drift from our send times on a loaded machine.
JITTER = 0.02

RATE = 10
PEOPLE = list(range(7001, 7031))
RETRY_AFTER = {7003, 7012, 7021}  # first send answered 429 retry_after=1
BLOCKED = {7005, 7017}  # blocked the bot: 403 on every send
FLAKY = {7008}  # 500 twice, then fine
HOPELESS = {7010}  # 500 every time
BROKEN = {7014}  # 400 chat not found: permanent


def faults(method: str, chat_id: int, attempt: int) -> FaultResult | None:
    if method != "sendMessage":
        return None
    if chat_id in RETRY_AFTER and attempt == 0:
        return Fault.retry_after(1)
    if chat_id in BLOCKED:
        return Fault.forbidden()
    if chat_id in HOPELESS or (chat_id in FLAKY and attempt < 2):
        return Fault.server_error()
    if chat_id in BROKEN:
        return Fault.bad_request("chat not found")
    return None


def most_in_window(times: Iterable[float], window: float) -> int:
    """The largest number of events within any span of `window` seconds."""
    ordered = sorted(times)
    most, first = 0, 0
    for last, moment in enumerate(ordered):
        while ordered[first] <= moment - window:
            first += 1
        most = max(most, last - first + 1)
    return most


async def open_now(running: RunningBot, people: Iterable[int]) -> int:
    app = running.app
    await add_respondents(app, [(chat, "49", "25-30") for chat in people])
    now = datetime.now(UTC)
    plan = WavePlan("pulse", now, now + timedelta(days=1), None, "all")
    wave_id = await create_wave(app.store, app.surveys, plan)
    await app.scheduler.sweep()
    return wave_id


async def test_limits_hold_and_every_reachable_respondent_is_invited_once(
    server: FakeTelegram, tmp_path: Path
) -> None:
    server.fail_sends(faults)
    running = await start_bot(make_settings(server, tmp_path, broadcast_rate=RATE))
    try:
        app = running.app
        app.broadcaster.retry = RetryPolicy(max_failures=3, first_delay=0.1)
        wave_id = await open_now(running, PEOPLE)
        await wait_until_sent(app, wave_id, timeout=30)

        delivered = Counter(r.params["chat_id"] for r in wave_messages(server, wave_id))
        reachable = set(PEOPLE) - BLOCKED - HOPELESS - BROKEN
        assert delivered == dict.fromkeys(reachable, 1)

        outcome = {
            row["telegram_id"]: (row["state"], row["failures"], row["error"], row["active"])
            for row in await app.database.fetch_all(
                "SELECT p.telegram_id, i.state, i.failures, i.error, p.active"
                " FROM invitations i JOIN respondents p ON p.id = i.respondent_id"
            )
        }
        for chat in BLOCKED:
            state, _, error, active = outcome[chat]
            assert (state, active) == ("blocked", 0) and "blocked" in error
        assert outcome[7008][:2] == ("delivered", 2)
        assert outcome[7010][:2] == ("failed", 3) and "gave up" in outcome[7010][2]
        assert outcome[7014][:2] == ("failed", 1) and "chat not found" in outcome[7014][2]

        attempts = wave_messages(server, wave_id, delivered=False)
        per_chat = Counter(r.params["chat_id"] for r in attempts)
        assert all(per_chat[chat] == 1 for chat in BLOCKED | BROKEN), "no retry after 403/400"
        assert per_chat[7010] == 3
        assert_limits(attempts, RATE)
    finally:
        await running.stop()


def assert_limits(attempts: list[RecordedRequest], rate: int) -> None:
    """Overall rate, one per chat per second, and silence while Telegram asked to wait."""
    assert most_in_window((r.at for r in attempts), 1.0 - JITTER) <= rate
    by_chat: dict[int, list[float]] = defaultdict(list)
    for request in attempts:
        by_chat[request.params["chat_id"]].append(request.at)
    for chat, times in by_chat.items():
        times.sort()
        gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
        assert all(gap >= 1.0 - JITTER for gap in gaps), f"chat {chat} written too often: {gaps}"
    for refused in (r for r in attempts if r.status == 429):
        during = [r for r in attempts if refused.at < r.at < refused.at + 1.0 - JITTER]
        assert during == [], "sent while Telegram asked to wait"


async def test_an_orderly_restart_mid_broadcast_invites_everyone_exactly_once(
    server: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(server, tmp_path, broadcast_rate=20)
    people = range(7101, 7161)
    first = await start_bot(settings)
    wave_id = await open_now(first, people)
    await server.wait_for(lambda: len(wave_messages(server, wave_id)) >= 15, timeout=10)
    await first.stop()
    left = _outbox_states(settings.database_path)
    assert left.get("pending", 0) > 0, "the stop came too late to test anything"
    assert "sending" not in left, "an orderly stop leaves nothing in flight"

    second = await start_bot(settings)
    try:
        await wait_until_sent(second.app, wave_id, timeout=20)
    finally:
        await second.stop()
    delivered = Counter(r.params["chat_id"] for r in wave_messages(server, wave_id))
    assert delivered == dict.fromkeys(people, 1)


async def test_after_a_crash_nobody_is_missed_and_only_sends_in_flight_can_repeat(
    server: FakeTelegram, tmp_path: Path
) -> None:
    """SIGKILL a real `civicpulse run` mid-broadcast, then restart: the documented guarantee."""
    settings = make_settings(server, tmp_path, broadcast_rate=40)
    people = range(7201, 7261)
    wave_id = await _prepare(settings, people)
    server.response_delay = 0.2  # a realistic round trip, so some sends are in flight
    log = (tmp_path / "bot.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=tmp_path,
        env={
            **os.environ,
            "BOT_TOKEN": server.token,
            "TELEGRAM_API_URL": server.base_url,
            "DATABASE_PATH": str(settings.database_path),
            "BROADCAST_RATE": "40",
        },
        stdout=log,
        stderr=log,
    )
    try:
        await server.wait_for(lambda: len(wave_messages(server, wave_id)) >= 15, timeout=20)
    finally:
        process.kill()
        await process.wait()
        log.close()
    server.response_delay = 0.0
    in_flight = _chats_in_state(settings.database_path, "sending")
    assert in_flight, "the crash should have caught some sends in flight"

    restarted = await start_bot(settings)
    try:
        await wait_until_sent(restarted.app, wave_id, timeout=20)
    finally:
        await restarted.stop()
    delivered = Counter(r.params["chat_id"] for r in wave_messages(server, wave_id))
    assert set(delivered) == set(people), "nobody is left out"
    twice = {chat for chat, count in delivered.items() if count > 1}
    assert twice <= in_flight and max(delivered.values()) <= 2


async def _prepare(settings: Settings, people: Iterable[int]) -> int:
    """A database with respondents and a wave that starts now, as the CLI would leave it."""
    database = await Database.open(settings.database_path)
    try:
        store = Store(database)
        surveys = await sync_surveys(store, settings.surveys_dir)
        for chat in people:
            await store.respondents.record_consent(chat, "ru", "test")
            await store.respondents.update_profile(chat, region_code="65", age_band="36-44")
        now = datetime.now(UTC)
        plan = WavePlan("pulse", now, now + timedelta(days=1), None, "all")
        return await create_wave(store, surveys, plan)
    finally:
        await database.close()


def _outbox_states(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT state, COUNT(*) FROM invitations GROUP BY state")
        return dict(rows.fetchall())


def _chats_in_state(path: Path, state: str) -> set[int]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT p.telegram_id FROM invitations i JOIN respondents p ON p.id = i.respondent_id"
            " WHERE i.state = ?",
            (state,),
        )
        return {row[0] for row in rows.fetchall()}


class FakeClock:
    """Time that moves only when told to, for the limits' arithmetic."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_token_bucket_keeps_every_second_within_the_rate_and_loses_little() -> None:
    for rate in (0.5, 1, 25, 30, 1000):
        clock = FakeClock()
        limiter = RateLimiter(rate, clock)
        taken: list[float] = []
        while clock.now < 160.0:
            wait = limiter.reserve()
            if wait:
                clock.now += wait + 0.0003  # the event loop wakes a little late
            else:
                taken.append(clock.now)
        assert most_in_window(taken, 1.0) <= max(1, rate)
        assert len(taken) / 60.0 >= 0.97 * rate


def test_chat_spacing_remembers_one_second_and_back_off_is_capped() -> None:
    clock = FakeClock()
    spacing = ChatSpacing(1.0, clock)
    spacing.started(1)
    clock.now += 0.5
    spacing.started(2)
    assert spacing.busy(1) and spacing.busy(2) and not spacing.busy(3)
    assert spacing.seconds_until_free() == 0.5
    clock.now += 0.5
    assert not spacing.busy(1) and spacing.busy(2)
    spacing.started(3)  # forgets chat 1
    assert not spacing.busy(1)
    assert RetryPolicy(first_delay=2.0, max_delay=5.0).delay(3) == 5.0
