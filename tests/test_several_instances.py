"""Two bots serve one Telegram bot from one PostgreSQL database, as a national deployment
runs them: webhook mode, spread over both by a round-robin proxy, one of them killed with
SIGKILL in the middle of a wave's sending.

What must hold: nobody is invited twice and the only people missed are the `unconfirmed`
few of the dead sender's last requests; the sending rate holds for the deployment, not per
instance; every answer a citizen saw acknowledged is stored once, with none skipped, even
when a double tap's two copies reach the two instances at the same moment; and the
survivor takes the sender role and finishes the wave.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import socket
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from bot.sandbox.fake_telegram import FakeTelegram
from tests.bot_process import BotProcess, bot_environment, seed_wave
from tests.harness import wave_messages
from tests.test_broadcast import JITTER, most_in_window
from tests.test_crash_safety import QUESTIONS, AnsweringCitizen, describe, planned_value

pytestmark = pytest.mark.postgresql

HOOK = "https://bot.example.org/hook"
SECRET = "shared-webhook-secret"
RATE = 25
CITIZENS = 120
ANSWERING = 32
FIRST_ID = 830_000
#: The issue's bound on a takeover, from the holder's death to the survivor sending.
TAKEOVER_SECONDS = 15.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class RoundRobinProxy:
    """What nginx's upstream does for the webhook: each update goes to the next instance;
    one that does not answer 200 (refused, killed mid-request, failing) gets the update's
    next attempt sent to the other, as Telegram's redelivery and `proxy_next_upstream`
    would. Updates are delivered at once, in parallel, as Telegram's several connections
    do."""

    def __init__(self, server: FakeTelegram, ports: list[int]) -> None:
        self._urls = itertools.cycle([f"http://127.0.0.1:{port}/hook" for port in ports])
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self.delivered: dict[str, int] = {}
        server.push_update = self.push  # type: ignore[method-assign]

    def push(self, update: dict[str, Any]) -> int:
        update_id = next(self._ids)
        task = asyncio.create_task(self._deliver({"update_id": update_id, **update}))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return update_id

    async def _deliver(self, update: dict[str, Any]) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
        while True:
            url = next(self._urls)
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with self._session.post(
                    url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET}
                ) as response:
                    if response.status == 200:
                        self.delivered[url] = self.delivered.get(url, 0) + 1
                        return
            await asyncio.sleep(0.05)

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()


def instance_environment(
    server: FakeTelegram, directory: Path, surveys: Path, url: str
) -> dict[str, str]:
    env = bot_environment(
        server,
        directory,
        surveys_dir=str(surveys),
        broadcast_rate=str(RATE),
        webhook_secret=SECRET,
        database_url=url,
    )
    del env["DATABASE_PATH"]  # one or the other: the data is in PostgreSQL
    return env


async def serving_webhook(bot: BotProcess, timeout: float = 30.0) -> None:
    async with asyncio.timeout(timeout):
        while "serving the webhook" not in bot.log():
            assert bot.running, f"the bot exited while starting:\n{bot.log()[-3000:]}"
            await asyncio.sleep(0.05)


def holds_the_role(bot: BotProcess) -> bool:
    return f":{bot.pid} holds the sender role" in bot.log()


async def outbox(url: str, wave_id: int) -> dict[int, str]:
    """Each citizen's invitation state, read as the operator's database shows it."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT p.telegram_id, i.state FROM invitations i"
            " JOIN respondents p ON p.id = i.respondent_id"
            " WHERE i.wave_id = $1 AND i.kind = 'invitation'",
            wave_id,
        )
        return {row["telegram_id"]: row["state"] for row in rows}
    finally:
        await connection.close()


async def stored_answers(url: str) -> dict[tuple[int, int], list[int]]:
    """(telegram id, question position) -> every value stored for it."""
    connection = await asyncpg.connect(url)
    try:
        rows = await connection.fetch(
            "SELECT p.telegram_id, a.question_id, a.value FROM answers a"
            " JOIN responses r ON r.id = a.response_id"
            " JOIN respondents p ON p.id = r.respondent_id"
        )
    finally:
        await connection.close()
    stored: dict[tuple[int, int], list[int]] = {}
    for row in rows:
        key = (row["telegram_id"], int(row["question_id"][1:]))
        stored.setdefault(key, []).append(int(row["value"]))
    return stored


async def test_two_instances_share_the_work_and_the_survivor_of_a_kill_finishes_the_wave(
    server: FakeTelegram, tmp_path: Path, postgres_url: str
) -> None:
    ids = list(range(FIRST_ID, FIRST_ID + CITIZENS))
    wave_id = await seed_wave(tmp_path, ids, QUESTIONS, url=postgres_url)
    ports = [free_port(), free_port()]
    bots = []
    for number, port in enumerate(ports):
        directory = tmp_path / f"instance-{number}"
        directory.mkdir()
        bots.append(
            BotProcess(
                instance_environment(server, directory, tmp_path / "surveys", postgres_url),
                directory,
                run_args=("--webhook", HOOK, "--listen", f"127.0.0.1:{port}"),
            )
        )
    proxy = RoundRobinProxy(server, ports)
    citizens = [
        AnsweringCitizen(server, server.user(user_id, f"Житель {n}"), presses=1 + n % 2)
        for n, user_id in enumerate(ids[:ANSWERING])
    ]

    def delivered() -> list[int]:
        return [r.params["chat_id"] for r in wave_messages(server, wave_id)]

    async def answer_once_invited(citizen: AnsweringCitizen) -> None:
        await server.wait_for(lambda: citizen.user.id in delivered(), timeout=120)
        await citizen.answer_everything()

    answering: list[asyncio.Task[None]] = []
    try:
        for bot in bots:
            await bot.start()
        for bot in bots:
            await serving_webhook(bot)
        await server.wait_for(lambda: any(holds_the_role(bot) for bot in bots), timeout=30)
        sender, survivor = sorted(bots, key=holds_the_role, reverse=True)
        assert not holds_the_role(survivor), "two instances hold the sender role"

        answering = [asyncio.create_task(answer_once_invited(c)) for c in citizens]
        # Mid-wave, once both instances have handled citizens' updates.
        await server.wait_for(
            lambda: len(delivered()) >= CITIZENS // 3 and len(proxy.delivered) == 2, timeout=60
        )
        assert await sender.kill() == -signal.SIGKILL
        await server.wait_for(lambda: holds_the_role(survivor), timeout=TAKEOVER_SECONDS)

        async def settled() -> bool:
            states = await outbox(postgres_url, wave_id)
            return len(states) == CITIZENS and not {"pending", "claimed", "sending"} & set(
                states.values()
            )

        async with asyncio.timeout(90):
            while not await settled():
                await asyncio.sleep(0.2)
            await asyncio.gather(*answering)
        assert await survivor.terminate() == 0, survivor.log()[-3000:]
    finally:
        for task in answering:
            task.cancel()
        for bot in bots:
            if bot.running:
                await bot.kill()
        await proxy.close()
        for bot in bots:
            print(describe(citizens, bot))  # shown by pytest only when the test fails

    # Both instances handled updates: the proxy really spread them.
    assert len(proxy.delivered) == 2 and min(proxy.delivered.values()) > 0, proxy.delivered

    sent = delivered()
    assert len(sent) == len(set(sent)), "someone was invited twice"
    states = await outbox(postgres_url, wave_id)
    missed = set(ids) - set(sent)
    assert all(states[user_id] == "unconfirmed" for user_id in missed), missed
    attempts = [r.at for r in wave_messages(server, wave_id, delivered=False)]
    assert most_in_window(attempts, 1.0 - JITTER) <= RATE

    # Every press was taken as the press on the screen it was made on: an instance that
    # went by a dialog another instance had since moved on would refuse it as stale.
    assert [c.ignored for c in citizens if c.presses == 1] == [0] * (ANSWERING // 2)
    stored = await stored_answers(postgres_url)
    for citizen in citizens:
        mine = {
            position: values
            for (user, position), values in stored.items()
            if user == citizen.user.id
        }
        assert sorted(mine) == list(range(1, QUESTIONS + 1)), (citizen.user.id, mine)
        assert all(len(values) == 1 for values in mine.values()), (citizen.user.id, mine)
        for position, value in citizen.acknowledged.items():
            assert mine[position] == [value] == [planned_value(citizen.user.id, position)]
    # Neither instance took the webhook away when it stopped: a rolling restart cuts no one off.
    assert server.webhook is not None and server.webhook["url"] == HOOK
