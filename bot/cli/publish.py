"""`civicpulse publish --wave ID -o DIR [--serve]`: a closed wave's public results site.

The folder holds static files only (pages, the open-data CSV files, the map), for any web
server or to be opened from disk. `--serve` previews it on 127.0.0.1 until Ctrl+C: a look
before the folder is copied to the real server, not a server for the public.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bot.cli.context import open_command_database
from bot.cli.parsing import add_command
from bot.settings import Settings
from storage.results import UnknownWave
from storage.site import SiteError, publish_site
from surveys.regions import load_catalog

PREVIEW_HOST = "127.0.0.1"


def register(subparsers: Any) -> None:
    publish = add_command(
        subparsers,
        "publish",
        help="write a closed wave's public results site (static files) into a folder",
        example="civicpulse publish --wave 3 -o site --serve",
    )
    publish.add_argument("--wave", type=int, required=True, metavar="ID")
    publish.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="DIR",
        help="the site's folder: created, or replaced if it holds a site published before",
    )
    publish.add_argument(
        "--serve", action="store_true", help=f"then preview it on http://{PREVIEW_HOST}"
    )
    publish.add_argument(
        "--port", type=int, default=8000, help="the preview's port (default 8000; 0: any free)"
    )
    publish.set_defaults(handler=publish_command)


async def publish_command(args: argparse.Namespace, settings: Settings) -> int:
    catalog = load_catalog(settings.regions_file)
    database = await open_command_database(settings)
    try:
        with _no_cycle_collection():
            published = await publish_site(
                database,
                args.wave,
                args.output,
                min_cell_size=settings.min_cell_size,
                catalog=catalog,
                zone=settings.zone,
            )
    except (UnknownWave, SiteError, OSError) as error:
        return _fail(str(error))
    finally:
        await database.close()
    print(
        f"published wave {args.wave}: {published.files} files, "
        f"{published.size / 1_000_000:.1f} MB in {published.directory}"
    )
    if not args.serve:
        return 0
    try:
        await serve(published.directory, args.port)
    except OSError as error:
        return _fail(f"cannot serve on {PREVIEW_HOST}:{args.port}: {error}")
    return STOPPED_BY_SIGNAL


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector off while a site is made: a national wave's figures are
    millions of small objects, none in a cycle, and every full pass of the collector walks
    them all (11 of 47 s at 2,000 municipalities). Reference counting still frees what is
    done with; this command ends soon after, and the bot, which publishes on its own when
    a wave closes, keeps its collector."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


#: The exit status of a preview stopped with Ctrl+C (or SIGTERM), as a shell reports SIGINT.
STOPPED_BY_SIGNAL = 130


async def serve(directory: Path, port: int) -> None:
    """Serves `directory` on 127.0.0.1 until Ctrl+C or SIGTERM.

    The signals set an event the loop waits on, rather than raising KeyboardInterrupt
    wherever the main thread happens to be: the server is then always shut down from a
    known place, however busy the machine."""
    handler = partial(SimpleHTTPRequestHandler, directory=str(directory))
    server = ThreadingHTTPServer((PREVIEW_HOST, port), handler)
    thread = threading.Thread(target=server.serve_forever, name="site-preview", daemon=True)
    thread.start()
    print(
        f"serving http://{PREVIEW_HOST}:{server.server_address[1]}/ — Ctrl+C to stop",
        flush=True,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for stopping in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(stopping, stop.set)
    try:
        await stop.wait()
    finally:
        for stopping in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(stopping)
        server.shutdown()
        server.server_close()


def _fail(message: str) -> int:
    print(f"civicpulse: publish failed: {message}", file=sys.stderr)
    return 1
