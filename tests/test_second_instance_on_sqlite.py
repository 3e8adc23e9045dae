"""A second bot started by mistake on the same SQLite file sends nothing while the first
runs (the sender role is a lock on a file beside the database), and takes over, without
inviting anyone twice, once the first is killed."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from bot.sandbox.fake_telegram import FakeTelegram
from tests.bot_process import BotProcess, bot_environment, seed_wave
from tests.harness import wave_messages

CITIZENS = 60
FIRST_ID = 840_000


def holds_the_role(bot: BotProcess) -> bool:
    return f":{bot.pid} holds the sender role" in bot.log()


async def test_a_second_bot_on_the_same_file_stands_by_and_takes_over_when_the_first_dies(
    server: FakeTelegram, tmp_path: Path
) -> None:
    ids = list(range(FIRST_ID, FIRST_ID + CITIZENS))
    wave_id = await seed_wave(tmp_path, ids, questions=2)
    env = bot_environment(
        server, tmp_path, surveys_dir=str(tmp_path / "surveys"), broadcast_rate="20"
    )
    bots = []
    for number in range(2):
        directory = tmp_path / f"instance-{number}"
        directory.mkdir()
        bots.append(BotProcess(env, directory))
    first, second = bots

    def delivered() -> list[int]:
        return [r.params["chat_id"] for r in wave_messages(server, wave_id)]

    try:
        await first.start()
        await server.wait_for(lambda: holds_the_role(first), timeout=30)
        await second.start()
        await server.wait_for(lambda: "stands by" in second.log(), timeout=30)
        await server.wait_for(lambda: len(delivered()) >= CITIZENS // 4, timeout=30)
        assert not holds_the_role(second)
        assert await first.kill() == -signal.SIGKILL
        await server.wait_for(lambda: holds_the_role(second), timeout=15)
        await server.wait_for(lambda: len(delivered()) >= CITIZENS - 16, timeout=30)
        await asyncio.sleep(0.5)  # what could still come, twice, would come now
        assert await second.terminate() == 0, second.log()[-3000:]
    finally:
        for bot in bots:
            if bot.running:
                await bot.kill()

    sent = delivered()
    assert len(sent) == len(set(sent)), "someone was invited twice"
    assert (tmp_path / "civicpulse.db.sender").stat().st_mode & 0o777 == 0o600
