"""`civicpulse sandbox` and `civicpulse start`: try the bot with no Telegram at all.

`sandbox` runs, in one process, the Bot API stand-in, the real bot pointed at it and a
chat page in the browser. `start` is the README's first command: it runs the real bot
when a BOT_TOKEN is configured and the sandbox otherwise, so a newcomer's first
copy-paste always shows something working.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
import webbrowser
from pathlib import Path
from typing import Any

from bot.cli.parsing import add_command
from bot.settings import Settings

DEFAULT_PORT = 8080


def register(subparsers: Any) -> None:
    sandbox = add_command(
        subparsers,
        "sandbox",
        help="try the bot in a browser chat, with a local stand-in for Telegram",
        example="civicpulse sandbox --port 8081 --reset",
    )
    _add_sandbox_options(sandbox)
    sandbox.set_defaults(handler=sandbox_command, log_level=logging.INFO)
    start = add_command(
        subparsers,
        "start",
        help="run the bot if BOT_TOKEN is set, otherwise the sandbox",
        example="civicpulse start --no-browser",
    )
    _add_sandbox_options(start)
    start.set_defaults(handler=start_command, log_level=logging.INFO)


def _add_sandbox_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help="port of the page on 127.0.0.1"
    )
    parser.add_argument("--reset", action="store_true", help="start from an empty sandbox database")
    parser.add_argument(
        "--no-browser", action="store_true", help="print the page's address, do not open it"
    )


async def start_command(args: argparse.Namespace, settings: Settings) -> int:
    if settings.bot_token is not None:
        print("civicpulse: BOT_TOKEN is set: starting the bot (civicpulse run).", flush=True)
        from bot.cli.main import build_parser  # deferred: bot.cli.main imports this module

        run_args = build_parser().parse_args(["run"])  # `run` with all its defaults
        return int(await run_args.handler(run_args, settings))
    print(
        "civicpulse: no BOT_TOKEN: starting the sandbox (civicpulse sandbox). "
        "Put BOT_TOKEN=… in .env to run the real bot instead.",
        flush=True,
    )
    return await sandbox_command(args, settings)


async def sandbox_command(args: argparse.Namespace, settings: Settings) -> int:
    # The bot's own INFO lines (a wave opened, invitations sent) are worth seeing here;
    # aiogram's line for every handled update and APScheduler's for every sweep would
    # bury the page's address.
    for chatty in ("aiogram.event", "apscheduler"):
        logging.getLogger(chatty).setLevel(logging.WARNING)
    # The bot and its stand-in are loaded only now: other commands start without aiogram.
    from bot.sandbox.runtime import DEFAULT_DATABASE, SandboxRuntime
    from bot.sandbox.server import SandboxPage

    runtime = SandboxRuntime(settings, DEFAULT_DATABASE)
    page = SandboxPage(runtime)
    try:
        await runtime.start(reset=args.reset)
    except ValueError as error:  # e.g. DATABASE_PATH pointing at the sandbox's file
        await runtime.stop()
        print(f"civicpulse: {error}", file=sys.stderr)
        return 2
    try:
        try:
            url = await page.start(args.port)
        except OSError as error:
            print(
                f"civicpulse: cannot serve the sandbox page on 127.0.0.1:{args.port} "
                f"({error.strerror}); try --port 0 for any free port",
                file=sys.stderr,
            )
            return 2
        print(
            f"CivicPulse sandbox: {url}\n"
            f"  database {Path(runtime.database_path)} (reset with --reset or from the page)\n"
            "  Ctrl-C stops it.",
            flush=True,
        )
        if not args.no_browser:
            await _open_browser(url)
        await _until_interrupted()
        print("civicpulse: stopping the sandbox…", flush=True)
    finally:
        await page.stop()
        await runtime.stop()
    return 0


async def _until_interrupted() -> None:
    """Wait for Ctrl-C or SIGTERM, so shutdown runs in order instead of a traceback."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows has no signal handlers
            loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(signum)


async def _open_browser(url: str) -> None:
    """Open the page unless only a console browser could: on a Linux machine with no
    display, `webbrowser` would start lynx or w3m in this very terminal."""
    graphical = sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )
    if not graphical:
        print("  (no display here: open the address in a browser on this machine)")
        return
    with contextlib.suppress(webbrowser.Error):
        await asyncio.to_thread(webbrowser.open, url)
