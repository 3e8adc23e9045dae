from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.fake_telegram import FakeTelegram
from tests.harness import TOKEN, RunningBot, make_settings, start_bot


@pytest.fixture
async def server() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram(token=TOKEN) as fake:
        yield fake


@pytest.fixture
async def running(server: FakeTelegram, tmp_path: Path) -> AsyncIterator[RunningBot]:
    bot = await start_bot(make_settings(server, tmp_path))
    try:
        yield bot
    finally:
        await bot.stop()
