"""`civicpulse audit`: the audit log as an auditor reads it, oldest first.

One line per record: when (in TIMEZONE), from where (chat or command line), who (Telegram
id and role, or the operating-system user), for which regions, what, and its details.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.cli.context import open_command_database
from bot.cli.parsing import add_command
from bot.settings import Settings
from bot.waves.when import parse_when
from storage.clock import from_db, to_db
from storage.repositories.audit import AuditEntry, AuditRepository

_AGO = re.compile(r"^-?(\d+)\s*([hd])$")
_AGO_UNITS = {"h": "hours", "d": "days"}


def register(subparsers: Any) -> None:
    command = add_command(
        subparsers,
        "audit",
        help="print the audit log: who did what, in which role, for which regions, when",
        example="civicpulse audit --since 7d --staff 123456789",
    )
    command.add_argument(
        "--since",
        metavar="WHEN",
        help="from 7d or 12h ago, or from a date(-time) in TIMEZONE such as 2026-11-01",
    )
    command.add_argument(
        "--staff",
        type=int,
        metavar="ID",
        help="only what this member of staff did, and what was done to their access",
    )
    command.set_defaults(handler=audit_command)


def since_moment(text: str, zone: ZoneInfo, now: datetime | None = None) -> datetime:
    """`7d` / `12h` back from now, or a date-time as `parse_when` reads it."""
    ago = _AGO.match(text.strip().lower())
    if ago:
        amount, unit = ago.groups()
        return (now or datetime.now(UTC)) - timedelta(**{_AGO_UNITS[unit]: int(amount)})
    return parse_when(text, zone, now)


async def audit_command(args: argparse.Namespace, settings: Settings) -> int:
    since = None
    if args.since is not None:
        try:
            since = to_db(since_moment(args.since, settings.zone))
        except (ValueError, OverflowError):
            print(
                f"civicpulse: --since: cannot read {args.since!r}: use 7d, 12h, or a date(-time) "
                "such as 2026-11-01 or 2026-11-01T09:00",
                file=sys.stderr,
            )
            return 2
    database = await open_command_database(settings)
    try:
        entries = await AuditRepository(database).entries(since=since, staff=args.staff)
    finally:
        await database.close()
    for entry in entries:
        print(audit_line(entry, settings.zone))
    return 0


def audit_line(entry: AuditEntry, zone: ZoneInfo) -> str:
    who = f"{entry.actor} ({entry.role})" if entry.role else entry.actor
    detail = json.dumps(entry.detail, ensure_ascii=False) if entry.detail else ""
    return "  ".join(
        (
            from_db(entry.at).astimezone(zone).strftime("%Y-%m-%d %H:%M:%S %Z"),
            f"{entry.source:<4}",
            f"{who:<24}",
            f"{entry.regions or '-':<12}",
            entry.action,
            detail,
        )
    ).rstrip()
