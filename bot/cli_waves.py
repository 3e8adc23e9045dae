"""`civicpulse wave create|list`."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from bot.cli_context import command_context
from bot.settings import Settings
from bot.when import parse_when, show_when
from storage.wave_planning import WavePlan, WavePlanError, create_wave, parse_regions
from surveys.regions import load_catalog


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("wave", help="plan and inspect survey waves")
    commands = group.add_subparsers(dest="wave_command", required=True, metavar="COMMAND")
    create = commands.add_parser("create", help="plan a wave; prints its id")
    create.add_argument("--survey", required=True, help="survey id (see `surveys list`)")
    create.add_argument("--start", required=True, help="now, +2h, or 2026-12-01T09:00 (TIMEZONE)")
    create.add_argument("--end", required=True, help="+14d, or a date-time in TIMEZONE")
    create.add_argument("--regions", default="all", help="all, or region codes: 49,65,05")
    create.add_argument("--tracks", default="all", choices=("all", "youth", "general"))
    create.add_argument("--remind-after", type=float, default=None, metavar="HOURS")
    create.set_defaults(handler=create_command)
    listing = commands.add_parser("list", help="list waves with their state")
    listing.set_defaults(handler=list_command)


async def create_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        plan = WavePlan(
            survey_id=args.survey,
            starts_at=parse_when(args.start, settings.zone),
            ends_at=parse_when(args.end, settings.zone),
            regions=parse_regions(args.regions, load_catalog(settings.regions_file)),
            tracks=args.tracks,
            remind_after_hours=args.remind_after,
        )
        async with command_context(settings) as context:
            wave_id = await create_wave(context.store, context.surveys, plan)
    except (ValueError, WavePlanError) as error:
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
    print(f"{'id':>4}  {'survey':<20} {'state':<10} {'start':<22} {'end':<22} regions / tracks")
    for wave in waves:
        regions = "all" if wave.all_regions else ",".join(wave.regions)
        print(
            f"{wave.id:>4}  {f'{wave.survey_id} v{wave.survey_version}':<20} {wave.state:<10} "
            f"{show_when(wave.starts_at, settings.zone):<22} "
            f"{show_when(wave.ends_at, settings.zone):<22} {regions} / {wave.tracks}"
        )
    return 0
