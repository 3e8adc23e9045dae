"""How a published figure is rounded and written, the same in files, chat and charts.

Readers round by hand, half up (72.25 → 72.3), and a score must read the same wherever it
is shown. Python's `round()` and `f"{x:.1f}"` round half to even (72.25 → "72.2"), and a
mean computed in floating point can land a hair below its true value (525 / 12 kept as
43.74999999999999 would round to 43.7). So a value is first taken to 9 decimals — far
below any published digit, far above float noise — and then rounded half up.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

#: Decimals kept before the published rounding: float noise lies far below them.
_NOISE = Decimal("1e-9")


def round_half_up(value: float, digits: int) -> float:
    """The published value: exactly half up on the true value (43.75 → 43.8)."""
    return float(_rounded(value, digits))


def format_figure(value: float, digits: int = 1, decimal: str = ".") -> str:
    """The published value as text, with `decimal` as the decimal mark ("," in Russian)."""
    text = f"{_rounded(value, digits):f}"
    return text if decimal == "." else text.replace(".", decimal)


def _rounded(value: float, digits: int) -> Decimal:
    clean = Decimal(repr(value)).quantize(_NOISE, rounding=ROUND_HALF_EVEN)
    return clean.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
