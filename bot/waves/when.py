"""Reading the times administrators type: `now`, `+2h`, or an ISO date-time.

Administrators think in their own time zone (TIMEZONE); inside, every time is UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_RELATIVE = re.compile(r"^\+(\d+(?:\.\d+)?)\s*([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_when(text: str, zone: ZoneInfo, now: datetime | None = None) -> datetime:
    """`now`, `+30m` / `+2h` / `+1d`, or ISO 8601 (`2026-12-01 09:00`, naive = in `zone`)."""
    now = now or datetime.now(UTC)
    value = text.strip().lower()
    if value == "now":
        return now
    relative = _RELATIVE.match(value)
    if relative:
        amount, unit = relative.groups()
        return now + timedelta(**{_UNITS[unit]: float(amount)})
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"cannot read the time {text!r}: use now, +2h, +30m, +1d or a date-time "
            "such as 2026-12-01T09:00"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment.astimezone(UTC)


def show_when(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")
