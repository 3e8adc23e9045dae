"""The broadcaster against Telegram's rules and failures, judged by the server's own clock.

Every respondent reachable gets the invitation exactly once whatever Telegram answers,
the rates are never exceeded, an orderly stop loses nobody, and a SIGKILL sends nobody
anything twice — at most the few requests it cut off are left unconfirmed.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import make_bot
from bot.sandbox.fake_telegram import (
    FakeTelegram,
    Fault,
    FaultPolicy,
    FaultResult,
    RecordedRequest,
)
from bot.settings import Settings
from bot.telegram.send_limits import ChatSpacing, RateLimiter, RetryPolicy
from bot.waves.broadcast import Broadcaster
from bot.waves.invitations import InvitationComposer
from storage.backend import Backend
from storage.clock import utc_now
from storage.connect import open_database
from storage.repositories.invitations import UNSETTLED, Outcome, Recovered
from storage.store import Store
from storage.survey_sync import sync_surveys
from storage.wave_planning import WavePlan, create_wave
from storage.wave_stats import wave_stats
from tests.bot_process import BotProcess, bot_environment
from tests.database_peek import peek, peek_one
from tests.harness import (
    RunningBot,
    add_respondents,
    make_settings,
    start_bot,
    wait_until,
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


@pytest.mark.usefixtures("bot_database_pass")
async def test_limits_hold_and_every_reachable_respondent_is_invited_once(
    server: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(server, tmp_path, broadcast_rate=RATE)
    row_states: list[str] = []
    server.fail_sends(_noting_row_state(faults, settings, row_states))
    running = await start_bot(settings)
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
        assert len(row_states) == len(attempts)
        assert set(row_states) == {"sending"}, "a request started before its row was committed"
    finally:
        await running.stop()


def _noting_row_state(policy: FaultPolicy, settings: Settings, seen: list[str]) -> FaultPolicy:
    """`policy`, also noting the outbox row's committed state as each send arrives."""

    def noting(method: str, chat_id: int, attempt: int) -> FaultResult | None:
        if method == "sendMessage":
            (state,) = peek_one(
                settings,
                "SELECT i.state FROM invitations i JOIN respondents p"
                " ON p.id = i.respondent_id WHERE p.telegram_id = ?",
                (chat_id,),
            )
            seen.append(state)
        return policy(method, chat_id, attempt)

    return noting


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


@pytest.mark.usefixtures("bot_database_pass")
async def test_an_orderly_restart_mid_broadcast_invites_everyone_exactly_once(
    server: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(server, tmp_path, broadcast_rate=20)
    people = range(7101, 7161)
    first = await start_bot(settings)
    wave_id = await open_now(first, people)
    await server.wait_for(lambda: len(wave_messages(server, wave_id)) >= 15, timeout=10)
    await first.stop()
    left = _outbox_states(settings)
    assert left.get("pending", 0) > 0, "the stop came too late to test anything"
    assert "sending" not in left, "an orderly stop leaves nothing in flight"
    assert "claimed" not in left, "an orderly stop hands back what it reserved"
    assert "unconfirmed" not in left

    second = await start_bot(settings)
    try:
        await wait_until_sent(second.app, wave_id, timeout=20)
    finally:
        await second.stop()
    delivered = Counter(r.params["chat_id"] for r in wave_messages(server, wave_id))
    assert delivered == dict.fromkeys(people, 1)


#: Rows committed `sending` ahead of the sender at BROADCAST_RATE=400 (rate × LEAD, 20 ms);
#: a claim at that rate reserves 50 rows, and two claims may be waiting.
LEAD_AT_400 = 8


@pytest.mark.usefixtures("bot_database_pass")
async def test_a_cancelled_wave_stops_sending_within_the_rows_already_committed(
    server: FakeTelegram, tmp_path: Path
) -> None:
    settings = make_settings(server, tmp_path, broadcast_rate=400)
    people = range(7401, 8401)
    running = await start_bot(settings)
    try:
        wave_id = await open_now(running, people)
        await server.wait_for(lambda: len(wave_messages(server, wave_id)) >= 100, timeout=10)
        # As the admin's Cancel button and `civicpulse wave cancel` do.
        assert await running.app.store.waves.transition(wave_id, ("open",), "cancelled")
        sent_before = len(wave_messages(server, wave_id))
        await wait_until_sent(running.app, wave_id, timeout=10)
    finally:
        await running.stop()
    # Claimed rows were not sent: only those committed `sending` (and in flight) went out.
    sent = len(wave_messages(server, wave_id))
    assert sent - sent_before <= 2 * LEAD_AT_400, (sent_before, sent)
    states = _outbox_states(settings)
    assert states == {"delivered": sent, "skipped": len(people) - sent}
    reasons = peek(settings, "SELECT DISTINCT error FROM invitations WHERE state = 'skipped'")
    assert reasons == [("wave cancelled",)]


#: Requests in flight at BROADCAST_RATE=40 (bot.waves.broadcast: max(4, rate / 4)).
CONCURRENCY_AT_40 = 10


@pytest.mark.usefixtures("bot_database_pass")
async def test_after_a_crash_nobody_gets_the_invitation_twice_and_only_a_cut_off_request_can_miss(
    server: FakeTelegram, tmp_path: Path
) -> None:
    """SIGKILL a real `civicpulse run` mid-broadcast, then restart: the documented guarantee."""
    settings = make_settings(server, tmp_path, broadcast_rate=40)
    people = range(7201, 7261)
    wave_id = await _prepare(settings, people)
    server.response_delay = 0.2  # a realistic round trip, so some sends are in flight
    process = BotProcess(bot_environment(server, tmp_path, broadcast_rate="40"), tmp_path)
    await process.start()
    try:
        await server.wait_for(lambda: len(wave_messages(server, wave_id)) >= 15, timeout=20)
    finally:
        await process.kill()
    # Requests the dead bot had started still arrive and are answered into the void.
    await server.wait_until_idle(timeout=5)
    server.response_delay = 0.0
    before = Counter(r.params["chat_id"] for r in wave_messages(server, wave_id, delivered=False))
    in_flight = _chats_in_state(settings, "sending")
    reserved = _chats_in_state(settings, "claimed")
    assert in_flight, "the crash should have caught some sends in flight"
    assert reserved, "the crash should have caught some rows claimed ahead"

    restarted = await start_bot(settings)
    try:
        await wait_until_sent(restarted.app, wave_id, timeout=20)
    finally:
        await restarted.stop()
    attempts = wave_messages(server, wave_id, delivered=False)
    sent = Counter(r.params["chat_id"] for r in attempts)
    after = sent - before
    unconfirmed = _chats_in_state(settings, "unconfirmed")
    missed = set(people) - set(sent)
    print(
        f"\ncrash: {len(in_flight)} rows sending → unconfirmed, {len(reserved)} claimed →"
        f" sent after the restart; unconfirmed and never seen by Telegram: {len(missed)}"
    )
    assert max(sent.values()) == 1, "nobody ever gets the invitation twice"
    assert all(r.status == 200 for r in attempts)
    assert unconfirmed == in_flight, "what had started is recorded unconfirmed"
    assert not set(after) & unconfirmed, "an unconfirmed row is never sent again"
    assert reserved <= set(after), "claimed rows had not started: they go out after restart"
    assert missed <= unconfirmed, "only a request cut off by the crash can be missed"
    assert len(missed) <= CONCURRENCY_AT_40
    assert _outbox_states(settings) == {
        "delivered": len(people) - len(unconfirmed),
        "unconfirmed": len(unconfirmed),
    }


@pytest.mark.usefixtures("bot_database_pass")
async def test_recovery_sends_claimed_rows_and_records_started_ones_unconfirmed(
    server: FakeTelegram, tmp_path: Path
) -> None:
    """recover_interrupted's two transitions, row by row, and what the figures then say."""
    settings = make_settings(server, tmp_path)
    wave_id = await _prepare(settings, range(7301, 7307))
    database = await open_database(settings)
    try:
        store = Store(database)
        outbox = store.invitations
        await store.waves.transition(wave_id, ("scheduled",), "open")
        assert await outbox.fill(wave_id, ["36-44"], utc_now()) == 6
        claim = await outbox.claim(utc_now(), 5, lambda _chat: False)
        first, *others = ids = [item.id for item in claim.items]
        assert await outbox.start_sending(ids[:3], utc_now())
        await outbox.settle(
            [Outcome(first, claim.items[0].chat_id, "delivered", message_id=9)], utc_now()
        )
        before = await _rows(database, wave_id)
        expected = ["delivered", "sending", "sending", "claimed", "claimed"]
        assert [before[i]["state"] for i in ids] == expected

        recovered = await outbox.recover_interrupted(utc_now() + timedelta(seconds=5))

        assert recovered == Recovered(released=2, unconfirmed=2)
        after = await _rows(database, wave_id)
        assert after[first] == before[first]
        for started in ids[1:3]:
            assert after[started]["state"] == "unconfirmed"
            assert after[started]["sent_at"] == before[started]["updated_at"]
            assert after[started]["message_id"] is None
        for reserved in ids[3:5]:
            assert after[reserved]["state"] == "pending"
        assert not await outbox.start_sending(others, utc_now()), "only claimed rows start"
        assert await _rows(database, wave_id) == after
        again = await outbox.claim(utc_now(), 10, lambda _chat: False)
        assert {item.id for item in again.items} == set(after) - set(ids[:3])

        wave = await store.waves.get(wave_id)
        assert wave is not None
        total = (await wave_stats(store, wave)).total
        assert (total.delivered, total.unconfirmed, total.waiting) == (3, 2, 3)
        assert total.reached == 3 and total.settled == 3
    finally:
        await database.close()


@pytest.mark.usefixtures("bot_database_pass")
async def test_a_request_lost_in_the_network_is_retried_only_if_it_never_left(
    server: FakeTelegram, tmp_path: Path
) -> None:
    """No connection: retried later. A timeout after the request went out: `unconfirmed`,
    never sent again — Telegram may have delivered it."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}"
    server.response_delay = 2.0  # longer than the client waits
    refused = await _send_one(make_settings(server, tmp_path / "a", telegram_api_url=closed))
    assert (refused["state"], refused["failures"]) == ("pending", 1)
    assert "ConnectionFailed" in str(refused["error"])
    timed_out = await _send_one(make_settings(server, tmp_path / "b"))
    assert (timed_out["state"], timed_out["failures"]) == ("unconfirmed", 0)
    assert timed_out["sent_at"] is not None
    assert len(server.calls("sendMessage")) == 1, "the timed-out request is not repeated"


@pytest.mark.usefixtures("bot_database_pass")
async def test_no_row_waits_out_a_pause_as_sending(server: FakeTelegram, tmp_path: Path) -> None:
    """Rows committed just before a 429 go back to `pending` for the pause: a crash during
    it can then cost nobody their invitation. After it everyone gets theirs once."""
    people = list(range(7501, 7541))
    server.fail_sends(
        lambda method, chat_id, attempt: (
            Fault.retry_after(2)
            if method == "sendMessage" and chat_id == 7505 and not attempt
            else None
        )
    )
    settings = make_settings(server, tmp_path)
    wave_id = await _prepare(settings, people)
    database = await open_database(settings)
    bot = make_bot(settings)
    try:
        store = Store(database)
        await store.waves.transition(wave_id, ("scheduled",), "open")
        await store.invitations.fill(wave_id, ["36-44"], utc_now())
        composer = InvitationComposer(store, settings.zone)
        broadcaster = Broadcaster(bot, store.invitations, composer, rate=400)
        await broadcaster.start()
        try:
            await server.wait_for(lambda: any(r.status == 429 for r in server.requests), 10)
            await asyncio.sleep(0.5)
            during = _outbox_states(settings)
            await wait_until(lambda: _settled(settings), 15)
        finally:
            await broadcaster.stop()
    finally:
        await bot.session.close()
        await database.close()
    assert "sending" not in during and during.get("pending", 0) > 0, during
    delivered = Counter(r.params["chat_id"] for r in wave_messages(server, wave_id))
    assert delivered == dict.fromkeys(people, 1)


async def _settled(settings: Settings) -> bool:
    return not set(_outbox_states(settings)) & set(UNSETTLED)


async def _send_one(settings: Settings) -> dict[str, object]:
    """One invitation through a broadcaster whose client gives up after 0.3 s; its row
    once the attempt is recorded (a retry is due only a minute later)."""
    wave_id = await _prepare(settings, [7401])
    database = await open_database(settings)
    bot = make_bot(settings)
    bot.session.timeout = 0.3
    try:
        store = Store(database)
        await store.waves.transition(wave_id, ("scheduled",), "open")
        await store.invitations.fill(wave_id, ["36-44"], utc_now())
        composer = InvitationComposer(store, settings.zone)
        broadcaster = Broadcaster(
            bot, store.invitations, composer, rate=None, retry=RetryPolicy(first_delay=60.0)
        )

        async def attempted() -> bool:
            row = next(iter((await _rows(database, wave_id)).values()))
            return row["state"] not in UNSETTLED or row["failures"] == 1

        await broadcaster.start()
        try:
            await wait_until(attempted, 10)
        finally:
            await broadcaster.stop()
        return next(iter((await _rows(database, wave_id)).values()))
    finally:
        await bot.session.close()
        await database.close()


async def _rows(database: Backend, wave_id: int) -> dict[int, dict[str, object]]:
    """The wave's outbox rows by id (the database may hold another wave's too)."""
    rows = await database.fetch_all(
        "SELECT id, state, failures, error, sent_at, updated_at, message_id FROM invitations"
        " WHERE wave_id = ?",
        (wave_id,),
    )
    return {row["id"]: dict(row) for row in rows}


async def _prepare(settings: Settings, people: Iterable[int]) -> int:
    """A database with respondents and a wave that starts now, as the CLI would leave it."""
    database = await open_database(settings)
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


def _outbox_states(settings: Settings) -> dict[str, int]:
    """Outbox rows by state, as committed: what another process would see now."""
    return dict(peek(settings, "SELECT state, COUNT(*) FROM invitations GROUP BY state"))


def _chats_in_state(settings: Settings, state: str) -> set[int]:
    rows = peek(
        settings,
        "SELECT p.telegram_id FROM invitations i JOIN respondents p ON p.id = i.respondent_id"
        " WHERE i.state = ?",
        (state,),
    )
    return {chat for (chat,) in rows}


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
