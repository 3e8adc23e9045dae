"""How a published figure is rounded and written, the same in files, chat and charts.

Readers round by hand, half up (72.25 → 72.3), and a score must read the same wherever it
is shown. Python's `round()` and `f"{x:.1f}"` round half to even (72.25 → "72.2"), and a
mean computed in floating point can land a hair below its true value (525 / 12 kept as
43.74999999999999 would round to 43.7). So a value is first taken to 9 decimals — far
below any published digit, far above float noise — and then rounded half up.

That takes a Decimal, and a site's files hold a million figures. Most of them lie nowhere
near a half: there the 9-decimal step cannot move them across one, and `f"{x:.1f}"`, which
rounds the float's exact value correctly, gives the same text. Only a value near a half
goes the Decimal way.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

#: Decimals kept before the published rounding: float noise lies far below them.
_NOISE = Decimal("1e-9")
#: How near a half (in the value's own units) a value is rounded by Decimal: two hundred
#: times the 5e-10 that the 9-decimal rounding may move it.
_NEAR_HALF = 1e-7
#: Below this a float and its repr differ by far less than `_NEAR_HALF`, and so does its
#: fraction scaled by 10**digits.
_LARGEST_FAST = 1e6
#: The decimals the float way serves, each with 10**digits and `_NEAR_HALF` scaled by it.
_SCALES = {digits: (10**digits, _NEAR_HALF * 10**digits) for digits in range(7)}


def round_half_up(value: float, digits: int) -> float:
    """The published value: exactly half up on the true value (43.75 → 43.8)."""
    return float(_text(value, digits))


def format_figure(value: float, digits: int = 1, decimal: str = ".") -> str:
    """The published value as text, with `decimal` as the decimal mark ("," in Russian)."""
    text = _text(value, digits)
    return text if decimal == "." else text.replace(".", decimal)


def _text(value: float, digits: int) -> str:
    """The value half up as text, and a zero without a sign: a change of -1e-14 between
    two equal scores, float noise of the order they were added in, is no change."""
    text = _half_up_text(value, digits)
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def _half_up_text(value: float, digits: int) -> str:
    """The value half up as text: by float formatting where it cannot differ from the
    Decimal rounding, by Decimal near a half, and for anything but a modest float (NaN
    and infinities included, which Decimal treats as it always did)."""
    scales = _SCALES.get(digits)
    if scales and type(value) is float and -_LARGEST_FAST < value < _LARGEST_FAST:
        scale, near_half = scales
        if abs(abs(value) * scale % 1.0 - 0.5) > near_half:
            return f"{value:.{digits}f}"
    return f"{_rounded(value, digits):f}"


def _rounded(value: float, digits: int) -> Decimal:
    clean = Decimal(repr(value)).quantize(_NOISE, rounding=ROUND_HALF_EVEN)
    return clean.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
