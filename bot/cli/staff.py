"""`civicpulse staff add|list|remove`: who may administer in chat, in which role, where.

A running bot reads staff from the database on every update, so a change applies to the
next message or button press without a restart. Every change is written to the audit log
with the operating-system user who made it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from bot.cli.context import open_store
from bot.cli.parsing import add_command
from bot.settings import Settings
from storage.access import StaffMember, federal
from storage.clock import from_db
from storage.staff_changes import StaffError, add_staff, remove_staff, staff_member
from surveys.regions import load_catalog


def register(subparsers: Any) -> None:
    group = add_command(
        subparsers,
        "staff",
        help="give people roles for regions: federal, regional, analyst",
        example="civicpulse staff list",
    )
    commands = group.add_subparsers(dest="staff_command", required=True, metavar="COMMAND")
    add = add_command(
        commands,
        "add",
        help="add a member of staff, or change the role or regions of one",
        example='civicpulse staff add 123456789 --role regional --regions 49,53 --name "Анна"',
    )
    add.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
    add.add_argument("--role", required=True, help="federal, regional or analyst")
    add.add_argument(
        "--regions", help="region codes such as 49,53 (an analyst may have `all`); not federal"
    )
    add.add_argument("--name", help="how you know them, shown in `staff list`")
    add.add_argument(
        "--microdata", action="store_true", help="let an analyst receive the answers file"
    )
    add.set_defaults(handler=add_member)
    listing = add_command(
        commands,
        "list",
        help="list staff: ADMIN_IDS and those added here",
        example="civicpulse staff list",
    )
    listing.set_defaults(handler=list_members)
    remove = add_command(
        commands,
        "remove",
        help="take a member's access away",
        example="civicpulse staff remove 123456789",
    )
    remove.add_argument("telegram_id", type=int, metavar="TELEGRAM_ID")
    remove.set_defaults(handler=remove_member)


async def add_member(args: argparse.Namespace, settings: Settings) -> int:
    try:
        member = staff_member(
            args.telegram_id,
            args.role,
            args.regions,
            load_catalog(settings.regions_file),
            microdata=args.microdata,
            name=args.name,
        )
        async with open_store(settings) as store:
            before = await add_staff(
                store, member, admin_ids=settings.admin_ids, by=getpass.getuser()
            )
    except StaffError as error:
        print(f"civicpulse: staff not changed: {error}", file=sys.stderr)
        return 1
    verb = "added" if before is None else f"changed (was {_role(before)})"
    print(f"{member.telegram_id} {verb}: {_role(member)}")
    return 0


async def remove_member(args: argparse.Namespace, settings: Settings) -> int:
    try:
        async with open_store(settings) as store:
            member = await remove_staff(
                store, args.telegram_id, admin_ids=settings.admin_ids, by=getpass.getuser()
            )
    except StaffError as error:
        print(f"civicpulse: staff not changed: {error}", file=sys.stderr)
        return 1
    print(f"{member.telegram_id} removed (was {_role(member)})")
    return 0


async def list_members(args: argparse.Namespace, settings: Settings) -> int:
    async with open_store(settings) as store:
        members = [federal(telegram_id) for telegram_id in sorted(settings.admin_ids)]
        members += await store.staff.all()
    if not members:
        print("no staff: set ADMIN_IDS or use `civicpulse staff add`")
        return 0
    print(f"{'telegram id':>12}  {'role':<9} {'regions':<20} {'microdata':<9}  {'added':<28} name")
    for member in members:
        print(
            f"{member.telegram_id:>12}  {member.role:<9} {member.scope:<20} "
            f"{'yes' if member.reads_microdata else 'no':<9}  {_added(member, settings):<28} "
            f"{member.name or ''}".rstrip()
        )
    return 0


def _added(member: StaffMember, settings: Settings) -> str:
    """When and by whom, or that ADMIN_IDS makes them staff."""
    if member.source == "settings" or member.added_at is None:
        return "ADMIN_IDS"
    when = from_db(member.added_at).astimezone(settings.zone).strftime("%Y-%m-%d %H:%M")
    return f"{when} by {member.added_by}"


def _role(member: StaffMember) -> str:
    grant = ", with the answers file" if member.role == "analyst" and member.microdata else ""
    return f"{member.role} for {member.scope}{grant}"
