"""`civicpulse status`: is anything sending, how much is left to send, how far each open
wave has got — the three questions an operator asks of a deployment, on either database.

Exit status 0 while an instance holds the sender role, and 3 while none does (nothing
sends invitations then), so that a monitoring check can run the command as it is.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.context import open_store
from bot.cli.parsing import add_command
from bot.settings import Settings
from bot.waves.when import show_when
from storage.connect import open_coordination
from storage.repositories.sender_role import SenderRecord
from storage.store import Store
from storage.wave_stats import WaveStats, wave_stats

#: The exit status while no instance holds the sender role.
NOBODY_SENDS = 3


def register(subparsers: Any) -> None:
    status = add_command(
        subparsers,
        "status",
        help="which instance sends, the outbox backlog and each open wave's progress",
        example="civicpulse status",
    )
    status.set_defaults(handler=status_command)


async def status_command(args: argparse.Namespace, settings: Settings) -> int:
    async with open_store(settings) as store:
        coordination = await open_coordination(settings, "status", store.database)
        try:
            held = await coordination.sender_role.held_anywhere()
        finally:
            await coordination.close()
        lines = [
            _sender_line(held, await store.sender_role.last(), settings),
            _outbox_line(*await store.invitations.backlog()),
            *await _wave_lines(store, settings),
        ]
    print("\n".join(lines))
    return 0 if held else NOBODY_SENDS


def _sender_line(held: bool, last: SenderRecord | None, settings: Settings) -> str:
    if last is None:
        taken = "no instance has held it yet"
    else:
        taken = f"{last.instance} since {show_when(last.since, settings.zone)}"
    if held:
        return f"sender role: held by {taken}"
    return f"sender role: held by nobody: no instance sends invitations (last: {taken})"


def _outbox_line(waiting: int, sending: int) -> str:
    return f"outbox: {waiting} messages waiting, {sending} being sent"


async def _wave_lines(store: Store, settings: Settings) -> list[str]:
    waves = await store.waves.in_state("open")
    if not waves:
        return ["open waves: none"]
    lines = ["open waves:"]
    for wave in waves:
        lines.append(_wave_line(await wave_stats(store, wave), settings))
    return lines


def _wave_line(stats: WaveStats, settings: Settings) -> str:
    wave, total = stats.wave, stats.total
    rate = total.completion_rate
    completed = "—" if rate is None else f"{rate:.1%} of those reached"
    return (
        f"  wave {wave.id}  {wave.survey_id} v{wave.survey_version}  until "
        f"{show_when(wave.ends_at, settings.zone)}: {total.settled} of {total.invited} "
        f"invitations sent ({total.waiting} waiting, {total.failed} failed), "
        f"{total.completed} completed ({completed})"
    )
