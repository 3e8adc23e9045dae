"""`civicpulse actions add|list|update|remove`: what regions are doing about their results.

The command line acts as the operator, who works for every region (docs/staff.md); regional
teams enter their own regions' actions in the admin chat. Everything typed here is checked
as the chat checks it (`surveys.action_entry`), a refused change stores nothing, and every
change is written to the audit log with the operating-system user who made it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from bot.cli.context import open_store
from bot.cli.parsing import add_command
from bot.settings import Settings
from storage.access import regions_text
from storage.clock import utc_now
from storage.store import Store
from surveys.action_entry import ActionSubjects, changed_fields, described, draft_of, entered
from surveys.actions import STATUSES, Action, ActionDraft, ActionError, parse_since
from surveys.loader import BUNDLED_SURVEYS_DIR, SurveyFileError, load_surveys
from surveys.regions import load_catalog

#: SQLite integers are 64-bit; a larger typed id would raise rather than miss.
_MAX_ID = 2**63 - 1
#: Option name → draft field, for the options `add` and `update` share.
_FIELDS = {
    "region": "region_code",
    "municipality": "municipality_code",
    "topic": "topic",
    "situation": "situation",
    "title": "title_ru",
    "title_en": "title_en",
    "description": "description_ru",
    "description_en": "description_en",
    "status": "status",
    "link": "link",
}


def register(subparsers: Any) -> None:
    group = add_command(
        subparsers,
        "actions",
        help="record what regions are doing about their results",
        example="civicpulse actions list --region 49",
    )
    commands = group.add_subparsers(dest="actions_command", required=True, metavar="COMMAND")
    add = add_command(
        commands,
        "add",
        help="record an action; prints its id",
        example=(
            'civicpulse actions add --region 49 --topic healthcare --title "Запись к врачу онлайн" '
            "--status in_progress --since 2026-03-01 --link https://example.org/clinics"
        ),
    )
    _options(add, required=True)
    add.set_defaults(handler=add_command_handler)
    listing = add_command(
        commands,
        "list",
        help="list actions, of one region or of all",
        example="civicpulse actions list --region 49",
    )
    listing.add_argument("--region", metavar="CODE", help="only this region's actions")
    listing.set_defaults(handler=list_command)
    update = add_command(
        commands,
        "update",
        help="change an action: only the options given change; an empty value clears one",
        example="civicpulse actions update 7 --status done --since 2026-05-20",
    )
    update.add_argument("action_id", type=int, metavar="ID")
    _options(update, required=False)
    update.set_defaults(handler=update_command)
    remove = add_command(
        commands, "remove", help="delete an action", example="civicpulse actions remove 7"
    )
    remove.add_argument("action_id", type=int, metavar="ID")
    remove.set_defaults(handler=remove_command)


def _options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument("--region", required=required, metavar="CODE", help="region code: 49")
    parser.add_argument(
        "--municipality", metavar="CODE", help="OKTMO code; whole region if left out"
    )
    parser.add_argument("--topic", metavar="ID", help="survey topic it addresses")
    parser.add_argument("--situation", metavar="ID", help="life situation it addresses")
    parser.add_argument("--title", required=required, metavar="TEXT", help="in Russian")
    parser.add_argument("--title-en", metavar="TEXT", help="in English, if you wish")
    parser.add_argument("--description", metavar="TEXT", help="a short paragraph, in Russian")
    parser.add_argument("--description-en", metavar="TEXT", help="in English, if you wish")
    parser.add_argument("--status", metavar="STATUS", help=" | ".join(STATUSES))
    parser.add_argument("--since", metavar="DATE", help="YYYY-MM-DD it took the status; today")
    parser.add_argument("--link", metavar="URL", help="a public https:// page about it")


def _subjects(settings: Settings) -> ActionSubjects:
    """Topics and situations of the bundled surveys and those of SURVEYS_DIR."""
    folders = dict.fromkeys(
        Path(folder).resolve() for folder in (BUNDLED_SURVEYS_DIR, settings.surveys_dir)
    )
    return ActionSubjects.of(
        survey for folder in folders for survey in load_surveys(folder).values()
    )


def _given(args: argparse.Namespace) -> dict[str, Any]:
    """The draft fields the options give; an empty value clears an optional one."""
    fields = {
        field: getattr(args, option).strip() or None
        for option, field in _FIELDS.items()
        if getattr(args, option) is not None
    }
    if args.since is not None:
        fields["since"] = parse_since(args.since) if args.since.strip() else None
    return fields


def _today(settings: Settings) -> date:
    return utc_now().astimezone(settings.zone).date()


def _checked(draft: ActionDraft, settings: Settings) -> ActionDraft:
    return entered(draft, load_catalog(settings.regions_file), _subjects(settings))


async def _found(store: Store, action_id: int) -> Action:
    action = await store.actions.get(action_id) if 0 < action_id <= _MAX_ID else None
    if action is None:
        raise ActionError(f"there is no action {action_id} (see `civicpulse actions list`)")
    return action


def _refused(verb: str, error: Exception) -> int:
    print(f"civicpulse: action not {verb}: {error}", file=sys.stderr)
    return 1


async def add_command_handler(args: argparse.Namespace, settings: Settings) -> int:
    try:
        fields = _given(args)
        fields.setdefault("since", _today(settings))
        draft = _checked(ActionDraft(**fields), settings)
        async with open_store(settings) as store:
            action_id = await store.actions.add(draft, getpass.getuser())
            await store.audit.record(
                "cli",
                getpass.getuser(),
                "action.add",
                {"id": action_id, **described(draft)},
                regions=draft.region_code,
            )
    except (ActionError, SurveyFileError) as error:
        return _refused("added", error)
    print(action_id)
    return 0


async def update_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        fields = _given(args)
        async with open_store(settings) as store:
            before = await _found(store, args.action_id)
            if "status" in fields and fields["status"] != before.status and "since" not in fields:
                fields["since"] = _today(settings)
            draft = _checked(replace(draft_of(before), **fields), settings)
            changes = changed_fields(before, draft)
            if changes:
                await store.actions.update(before.id, draft)
                await store.audit.record(
                    "cli",
                    getpass.getuser(),
                    "action.update",
                    {"id": before.id, "changed": changes},
                    regions=regions_text({before.region_code, draft.region_code}),
                )
    except (ActionError, SurveyFileError) as error:
        return _refused("changed", error)
    print(f"action {before.id}: " + (", ".join(changes) + " changed" if changes else "no change"))
    return 0


async def remove_command(args: argparse.Namespace, settings: Settings) -> int:
    try:
        async with open_store(settings) as store:
            action = await _found(store, args.action_id)
            await store.actions.remove(action.id)
            await store.audit.record(
                "cli",
                getpass.getuser(),
                "action.remove",
                {"id": action.id, **described(action)},
                regions=action.region_code,
            )
    except ActionError as error:
        return _refused("removed", error)
    print(f"action {action.id} removed")
    return 0


async def list_command(args: argparse.Namespace, settings: Settings) -> int:
    region = (args.region or "").strip() or None
    if region is not None and load_catalog(settings.regions_file).region(region) is None:
        return _refused("listed", ActionError(f"unknown region code {region!r}"))
    async with open_store(settings) as store:
        actions = await store.actions.listed(None if region is None else [region])
    if not actions:
        print("no actions yet" if region is None else f"no actions for region {region} yet")
        return 0
    heading = f"{'id':>5}  {'region':<6} {'municipality':<12} {'topic':<16} {'status':<11}"
    print(f"{heading} since       title")
    for action in actions:
        since = action.since.isoformat() if action.since else "—"
        print(
            f"{action.id:>5}  {action.region_code:<6} {action.municipality_code or '—':<12} "
            f"{action.topic or '—':<16} {action.status:<11} {since:<10}  {action.title_ru}"
        )
    return 0
