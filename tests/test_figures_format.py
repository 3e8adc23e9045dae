"""The fast ways of writing figures give the very text of the exact ones: a float is
formatted directly only where the Decimal rounding could not differ, and a CSV line is
quoted cell by cell only where a cell needs it."""

from __future__ import annotations

import io
import math
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from hypothesis import given
from hypothesis import strategies as st

from surveys.export import PLAIN, CsvSink
from surveys.figures import format_figure, round_half_up


def _exact(value: float, digits: int) -> str:
    """The rule itself: to 9 decimals half even, then half up, all in Decimal; a zero is
    written without a sign."""
    clean = Decimal(repr(value)).quantize(Decimal("1e-9"), rounding=ROUND_HALF_EVEN)
    text = f"{clean.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP):f}"
    return text.removeprefix("-") if Decimal(text) == 0 else text


@st.composite
def near_halves(draw: st.DrawFn) -> tuple[float, int]:
    """A value at, just beside or a little off a half of its last published digit."""
    digits = draw(st.integers(0, 4))
    half = (draw(st.integers(-2_000_000, 2_000_000)) + 0.5) / 10**digits
    offset = draw(st.sampled_from([0.0, 1e-15, 1e-12, 4e-10, 6e-10, 1e-9, 1e-7, 1e-6, 1e-3]))
    value = half + draw(st.sampled_from([-1, 1])) * offset
    steps = draw(st.integers(-3, 3))
    for _ in range(abs(steps)):
        value = math.nextafter(value, math.copysign(math.inf, steps))
    return value, digits


@given(near_halves())
def test_a_value_near_a_half_is_written_by_the_rule(case: tuple[float, int]) -> None:
    value, digits = case
    assert format_figure(value, digits) == _exact(value, digits)
    assert round_half_up(value, digits) == float(_exact(value, digits))


@given(st.floats(-1e12, 1e12), st.integers(0, 7))
def test_any_float_is_written_by_the_rule(value: float, digits: int) -> None:
    assert format_figure(value, digits, ",") == _exact(value, digits).replace(".", ",")


def test_a_figure_that_rounds_to_zero_has_no_sign() -> None:
    """Two equal scores summed in another order differ by float noise: their change must
    read 0.0 in every file, never -0.0."""
    for value in (0.0, -0.0, 1e-12, -1e-12, -2.8e-14, -0.04):
        assert format_figure(value, 1) == "0.0"
        assert format_figure(value, 0) == "0"
    assert math.copysign(1.0, round_half_up(-1e-14, 1)) == 1.0
    assert format_figure(-0.05, 1) == "-0.1"
    assert format_figure(-0.04999, 2, ",") == "-0,05"


def test_only_cells_that_need_quotes_get_them() -> None:
    target = io.BytesIO()
    sink = CsvSink(target, PLAIN, ["a", "b"])
    sink.write([["1", "x"], ['say "hi"', "a,b"], ["line\nbreak", ""], ["", ""]])
    assert target.getvalue().decode() == (
        'a,b\r\n1,x\r\n"say ""hi""","a,b"\r\n"line\nbreak",\r\n,\r\n'
    )
