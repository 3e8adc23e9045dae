"""`civicpulse wave stats`: a wave's figures as a plain-text table for the terminal.

The same `WaveStats` as the chat's `/stats` and progress message, laid out for a console.
"delivered" includes invitations recorded `unconfirmed` after a crash; their number is
printed below the table when there are any.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.waves.when import show_when
from storage.wave_stats import Figures, WaveStats
from surveys.regions import RegionCatalog

_COLUMNS = ("invited", "delivered", "blocked", "failed", "started", "completed")
_NAME_WIDTH = 34


def stats_report(
    stats: WaveStats, catalog: RegionCatalog, zone: ZoneInfo, configured_rate: float
) -> str:
    wave, total = stats.wave, stats.total
    lines = [
        f"wave {wave.id}  {wave.survey_id} v{wave.survey_version}  {wave.state}  "
        f"{show_when(wave.starts_at, zone)} — {show_when(wave.ends_at, zone)}",
    ]
    if wave.segments:
        lines.append(f"aimed at: {', '.join(wave.segments)}")
    if stats.sending:
        left = round(stats.seconds_left(configured_rate))
        lines.append(
            f"sending: {total.settled} / {total.invited} sent, {stats.rate:.1f}/s, "
            f"{total.failed} failed, about {left // 60} min {left % 60} s left"
        )
    if total.reminded:
        lines.append(f"reminders delivered: {total.reminded}")
    lines.append("")
    header = f"{'region':<{_NAME_WIDTH}}" + "".join(f"{c:>10}" for c in _COLUMNS)
    lines.append(header + f"{'rate':>8}")
    for code, figures in stats.regions.items():
        region = catalog.region(code)
        label = f"{code} {region.name.ru}" if region else code
        lines.append(_row(label, figures))
    lines.append(_row("all regions", total))
    lines.append("")
    if total.unconfirmed:
        lines.append(
            f"delivered includes {total.unconfirmed} unconfirmed: the request had started when"
            " the bot crashed, so Telegram most likely accepted it; not sent again"
        )
    lines.append("rate = completed ÷ reached (invitation delivered, or started on their own)")
    return "\n".join(lines)


def _row(label: str, figures: Figures) -> str:
    rate = figures.completion_rate
    shown = "—" if rate is None else f"{rate:.1%}"
    cells = "".join(f"{getattr(figures, column):>10}" for column in _COLUMNS)
    return f"{label[:_NAME_WIDTH]:<{_NAME_WIDTH}}{cells}{shown:>8}"
