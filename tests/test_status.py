"""`civicpulse status` beside a running bot, on each database: who sends, what is left
to send, how far the open wave has got — and status 3 once nobody sends."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from bot.sandbox.fake_telegram import FakeTelegram
from bot.settings import Settings
from tests.harness import add_respondents, make_settings, open_wave, start_bot, wait_until_sent

ROOT = Path(__file__).resolve().parent.parent


async def status(settings: Settings, directory: Path) -> tuple[int, str]:
    """`civicpulse status` in a process of its own, as an operator runs it beside the bot:
    in the test's folder, so that no `.env` or data of the working copy is read."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "BOT_TOKEN": "", "PSEUDONYM_KEY": ""}
    env.pop("DATABASE_URL", None)
    if settings.database_url is None:
        env["DATABASE_PATH"] = str(settings.database_path)
    else:
        env.pop("DATABASE_PATH", None)
        env["DATABASE_URL"] = settings.database_url.get_secret_value()
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "status",
        env=env,
        cwd=directory,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, output.decode()


@pytest.fixture
def settings(server: FakeTelegram, tmp_path: Path, bot_database_pass: str) -> Settings:
    """The bot's settings in this pass, which `civicpulse status` reads too."""
    return make_settings(server, tmp_path)


async def test_status_names_the_sender_the_backlog_and_the_open_wave(
    settings: Settings, tmp_path: Path
) -> None:
    code, shown = await status(settings, tmp_path)
    assert code == 3, shown
    assert "sender role: held by nobody" in shown
    assert "no instance has held it yet" in shown
    assert "outbox: 0 messages waiting, 0 being sent" in shown
    assert "open waves: none" in shown

    running = await start_bot(settings)
    instance = f"{socket.gethostname()}:{os.getpid()}"
    try:
        app = running.app
        await add_respondents(app, [(8_100_000 + n, "49", "25-30") for n in range(3)])
        wave_id = await open_wave(app)
        await wait_until_sent(app, wave_id)
        code, shown = await status(settings, tmp_path)
    finally:
        await running.stop()
    assert code == 0, shown
    assert f"sender role: held by {instance} since " in shown
    assert "outbox: 0 messages waiting, 0 being sent" in shown
    assert f"wave {wave_id}  social_services" in shown
    assert "3 of 3 invitations sent (0 waiting, 0 failed), 0 completed" in shown

    code, shown = await status(settings, tmp_path)
    assert code == 3, shown
    assert f"held by nobody: no instance sends invitations (last: {instance} since " in shown
