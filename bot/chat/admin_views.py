"""A wave's figures as administrators read them in chat: list lines, stats, progress.

Pure functions of `WaveStats`, so `/waves`, `/stats` and the progress message can never
disagree about what a number means.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from zoneinfo import ZoneInfo

from bot.chat.texts import Texts
from bot.waves.when import show_when
from storage.access import StaffMember
from storage.repositories.waves import Wave
from storage.wave_stats import Figures, WaveStats
from surveys.regions import RegionCatalog

#: Telegram allows 4096 characters a message; a long region list is cut before that.
MAX_REGION_LINES = 40


def regions_label(codes: Iterable[str], catalog: RegionCatalog, texts: Texts) -> str:
    """`49 Новгородская область, 53 …`: codes with their names, escaped."""
    names = []
    for code in codes:
        region = catalog.region(code)
        names.append(escape(f"{code} {region.name.get(texts.language)}" if region else code))
    return ", ".join(names)


def access_text(staff: StaffMember, texts: Texts, catalog: RegionCatalog) -> str:
    """What the member may do, and where: the line under the menu's heading."""
    regions = (
        texts("wizard.all_regions")
        if staff.regions is None
        else regions_label(sorted(staff.regions), catalog, texts)
    )
    return texts(f"admin.access.{staff.role}", regions=regions)


def no_waves_text(staff: StaffMember, texts: Texts) -> str:
    """The "no waves yet" reply, inviting to create one only those whose role may."""
    return texts("admin.no_waves" if staff.plans_waves else "admin.no_waves_to_read")


def survey_label(wave: Wave) -> str:
    return escape(f"{wave.survey_id} v{wave.survey_version}")


def state_name(wave: Wave, texts: Texts) -> str:
    return texts(f"admin.state.{wave.state}")


def share(figures: Figures, texts: Texts) -> str:
    rate = figures.completion_rate
    return texts("admin.no_rate") if rate is None else f"{rate:.0%}"


def duration(seconds: float, texts: Texts) -> str:
    whole = max(0, round(seconds))
    return texts("duration", minutes=whole // 60, seconds=whole % 60)


def _headline(stats: WaveStats, texts: Texts, zone: ZoneInfo) -> dict[str, object]:
    """What every view of a wave starts with: which wave, its state and its period."""
    wave, total = stats.wave, stats.total
    return {
        "wave": wave.id,
        "survey": survey_label(wave),
        "state": state_name(wave, texts),
        "start": show_when(wave.starts_at, zone),
        "end": show_when(wave.ends_at, zone),
        "invited": total.invited,
        "delivered": total.delivered,
        "started": total.started,
        "completed": total.completed,
    }


def aimed_at(wave: Wave, texts: Texts) -> str:
    """The line naming an aimed wave's groups; empty for a wave for everyone."""
    if not wave.segments:
        return ""
    names = ", ".join(texts(f"segment.{segment}") for segment in wave.segments)
    return "\n" + texts("admin.wave_segments", segments=names)


def wave_line(stats: WaveStats, texts: Texts, zone: ZoneInfo) -> str:
    return texts("admin.wave_line", **_headline(stats, texts, zone)) + aimed_at(stats.wave, texts)


def stats_text(stats: WaveStats, texts: Texts, catalog: RegionCatalog, zone: ZoneInfo) -> str:
    total = stats.total
    lines = [
        texts(
            "admin.stats",
            **_headline(stats, texts, zone),
            blocked=total.blocked,
            failed=total.failed,
            waiting=total.waiting,
            reminded=total.reminded,
            rate=share(total, texts),
        )
        + aimed_at(stats.wave, texts)
    ]
    if stats.regions:
        lines += ["", texts("admin.stats_regions")]
    for code, figures in list(stats.regions.items())[:MAX_REGION_LINES]:
        region = catalog.region(code)
        lines.append(
            texts(
                "admin.stats_region",
                region=escape(code),
                name=escape(region.name.get(texts.language)) if region else "",
                invited=figures.invited,
                delivered=figures.delivered,
                blocked=figures.blocked,
                started=figures.started,
                completed=figures.completed,
                rate=share(figures, texts),
            )
        )
    hidden = len(stats.regions) - MAX_REGION_LINES
    if hidden > 0:
        lines.append(texts("admin.stats_more", count=hidden))
    return "\n".join(lines)


def progress_finished(stats: WaveStats) -> bool:
    """Nothing more will be sent: all settled, or the wave stopped accepting answers."""
    return not stats.sending or stats.wave.state != "open"


def progress_text(stats: WaveStats, texts: Texts, configured_rate: float) -> str:
    wave, total = stats.wave, stats.total
    if not stats.sending:
        return texts(
            "progress.done",
            wave=wave.id,
            delivered=total.delivered,
            total=total.invited,
            blocked=total.blocked,
            failed=total.failed,
        )
    if wave.state != "open":
        return texts(
            "progress.stopped",
            wave=wave.id,
            state=state_name(wave, texts),
            delivered=total.delivered,
            total=total.invited,
        )
    return texts(
        "progress.body",
        wave=wave.id,
        sent=total.settled,
        total=total.invited,
        rate=f"{stats.rate:.1f}",
        blocked=total.blocked,
        failed=total.failed,
        left=duration(stats.seconds_left(configured_rate), texts),
    )
