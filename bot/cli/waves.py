"""`civicpulse wave create|list|stats|cancel`."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from bot.cli.context import command_context
from bot.cli.parsing import add_command
from bot.settings import Settings
from bot.waves.stats_report import stats_report
from bot.waves.when import parse_when, show_when
from storage.access import regions_text
from storage.wave_planning import (
    WavePlan,
    WavePlanError,
    create_wave,
    parse_regions,
    parse_segments,
)
from storage.wave_stats import wave_stats
from surveys.profile_groups import SEGMENT_IDS
from surveys.regions import load_catalog

#: What `wave create` was asked, as the audit log records it.
_CREATE_OPTIONS = ("survey", "start", "end", "regions", "tracks", "remind_after", "segments")


def register(subparsers: Any) -> None:
    group = add_command(
        subparsers,
        "wave",
        help="plan and inspect survey waves",
        example="civicpulse wave list",
    )
    commands = group.add_subparsers(dest="wave_command", required=True, metavar="COMMAND")
    create = add_command(
        commands,
        "create",
        help="plan a wave; prints its id",
        example=(
            "civicpulse wave create --survey social_services --start now --end +14d "
            "--regions 49,65 --tracks youth --remind-after 48 --segments families_with_children"
        ),
    )
    create.add_argument("--survey", required=True, help="survey id (see `surveys list`)")
    create.add_argument("--start", required=True, help="now, +2h, or 2026-12-01T09:00 (TIMEZONE)")
    create.add_argument("--end", required=True, help="+14d, or a date-time in TIMEZONE")
    create.add_argument("--regions", default="all", help="all, or region codes: 49,65,05")
    create.add_argument("--tracks", default="all", choices=("all", "youth", "general"))
    create.add_argument("--remind-after", type=float, default=None, metavar="HOURS")
    create.add_argument(
        "--segments",
        default=None,
        metavar="IDS",
        help=f"invite only these groups (any of them): {', '.join(SEGMENT_IDS)}",
    )
    create.set_defaults(handler=create_command)
    listing = add_command(
        commands, "list", help="list waves with their state", example="civicpulse wave list"
    )
    listing.set_defaults(handler=list_command)
    stats = add_command(
        commands,
        "stats",
        help="a wave's invitations, starts and completions",
        example="civicpulse wave stats 3",
    )
    stats.add_argument("wave_id", type=int, metavar="ID")
    stats.set_defaults(handler=stats_command)
    cancel = add_command(
        commands,
        "cancel",
        help="cancel a scheduled or open wave",
        example="civicpulse wave cancel 3",
    )
    cancel.add_argument("wave_id", type=int, metavar="ID")
    cancel.set_defaults(handler=cancel_command)


async def create_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        plan = WavePlan(
            survey_id=args.survey,
            starts_at=parse_when(args.start, settings.zone),
            ends_at=parse_when(args.end, settings.zone),
            regions=parse_regions(args.regions, load_catalog(settings.regions_file)),
            tracks=args.tracks,
            remind_after_hours=args.remind_after,
            segments=parse_segments(args.segments),
        )
        async with command_context(settings) as context:
            wave_id = await create_wave(context.store, context.surveys, plan)
            asked = {key: getattr(args, key) for key in _CREATE_OPTIONS}
            await context.store.audit.record(
                "cli",
                getpass.getuser(),
                "wave.create",
                {"wave": wave_id, **asked},
                regions=regions_text(plan.regions),
            )
    except (ValueError, OverflowError, WavePlanError) as error:
        print(f"civicpulse: wave not created: {error}", file=sys.stderr)
        return 1
    print(wave_id)
    return 0


async def list_command(args: argparse.Namespace, settings: Settings) -> int:
    async with command_context(settings) as context:
        waves = await context.store.waves.all()
    if not waves:
        print("no waves yet")
        return 0
    print(
        f"{'id':>4}  {'survey':<20} {'state':<10} {'start':<22} {'end':<22} "
        "regions / tracks [/ segments]"
    )
    for wave in waves:
        regions = "all" if wave.all_regions else ",".join(wave.regions)
        segments = f" / {','.join(wave.segments)}" if wave.segments else ""
        print(
            f"{wave.id:>4}  {f'{wave.survey_id} v{wave.survey_version}':<20} {wave.state:<10} "
            f"{show_when(wave.starts_at, settings.zone):<22} "
            f"{show_when(wave.ends_at, settings.zone):<22} {regions} / {wave.tracks}{segments}"
        )
    return 0


async def stats_command(args: argparse.Namespace, settings: Settings) -> int:
    async with command_context(settings) as context:
        wave = await context.store.waves.get(args.wave_id)
        if wave is None:
            print(f"civicpulse: there is no wave {args.wave_id}", file=sys.stderr)
            return 1
        stats = await wave_stats(context.store, wave)
    catalog = load_catalog(settings.regions_file)
    print(stats_report(stats, catalog, settings.zone, settings.broadcast_rate))
    return 0


async def cancel_command(args: argparse.Namespace, settings: Settings) -> int:
    """A running bot sees the change in the database: it sends and accepts nothing more."""
    async with command_context(settings) as context:
        store = context.store
        wave = await store.waves.get(args.wave_id)
        if wave is None:
            print(f"civicpulse: there is no wave {args.wave_id}", file=sys.stderr)
            return 1
        if not await store.waves.transition(wave.id, ("scheduled", "open"), "cancelled"):
            current = await store.waves.get(wave.id) or wave
            print(
                f"civicpulse: wave {wave.id} is {current.state}; only a scheduled or open "
                "wave can be cancelled",
                file=sys.stderr,
            )
            return 1
        await store.audit.record(
            "cli",
            getpass.getuser(),
            "wave.cancel",
            {"wave": wave.id, "was": wave.state},
            regions=regions_text(None if wave.all_regions else wave.regions),
        )
    print(f"wave {wave.id} cancelled")
    return 0
