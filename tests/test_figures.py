"""Published figures are exact: half up on the true value, the same in files and chat."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from bot.chat.results_view import region_results_text
from bot.chat.texts import Texts
from surveys.aggregate import Estimate, Moments, estimate
from surveys.export import EXCEL, PLAIN, CellFormat
from surveys.figures import format_figure, round_half_up
from surveys.region_summary import RegionComparison, TopicComparison


def _half_up(value: Fraction, digits: int) -> str:
    scaled = value * 10**digits
    whole = scaled.numerator // scaled.denominator
    if scaled - whole >= Fraction(1, 2):
        whole += 1
    text = str(whole).rjust(digits + 1, "0")
    return f"{text[:-digits]}.{text[-digits:]}"


@st.composite
def likert_cells_ending_in_5(draw: st.DrawFn) -> list[float]:
    """Likert scores (0, 25, 50, 75, 100 for levels 0-4) of 4k respondents whose levels sum
    to k·j with j odd: the exact mean is 6.25·j, which ends in 5 at the second decimal
    (6.25, 18.75, …, 93.75), reached by ever different answers in ever different order."""
    k = draw(st.integers(min_value=1, max_value=100))
    j = draw(st.sampled_from(range(1, 16, 2)))
    levels = draw(st.lists(st.integers(0, 4), min_size=4 * k, max_size=4 * k))
    gap = k * j - sum(levels)
    for index in draw(st.permutations(range(4 * k))):  # move the sum to k·j, in any order
        step = max(-levels[index], min(4 - levels[index], gap))
        levels[index] += step
        gap -= step
    return [25.0 * level for level in levels]


@given(scores=likert_cells_ending_in_5())
def test_a_mean_ending_in_5_is_published_half_up(scores: list[float]) -> None:
    """43.75 (12 respondents, sum 525) is 43.8, never 43.7, however the floats add up."""
    exact = Fraction(int(sum(scores)), len(scores))
    assert (exact * 100).denominator == 1 and (exact * 100).numerator % 10 == 5
    cell = estimate({("49", "18-24"): Moments.of(scores)})
    assert cell is not None
    assert format_figure(cell.score, 1) == _half_up(exact, 1)


def test_float_noise_below_the_true_value_does_not_round_it_down() -> None:
    assert round_half_up(43.74999999999999, 1) == 43.8  # 525 / 12 as a float sum may give
    assert format_figure(72.25, 1) == "72.3"  # f"{72.25:.1f}" gives "72.2"
    assert format_figure(0.6665, 3, ",") == "0,667"
    assert format_figure(43.74, 1) == "43.7"


def test_the_chat_writes_a_score_as_the_files_do() -> None:
    region = Estimate(score=72.25, ci_low=60.0, ci_high=84.5, satisfied_share=0.5, effective_n=12)
    wave = Estimate(score=43.75, ci_low=40.0, ci_high=47.5, satisfied_share=0.2, effective_n=90)
    comparison = RegionComparison(
        1, "49", "all", (TopicComparison("overall", None, region, wave),), None, 0
    )

    russian = region_results_text("Опрос", "Новгородская область", comparison, Texts("ru"))
    english = region_results_text("Survey", "Novgorod Region", comparison, Texts("en"))

    assert "<b>72,3</b> (43,8)" in russian
    assert "<b>72.3</b> (43.8)" in english
    assert CellFormat(PLAIN)(72.25, 1) == "72.3"
    assert CellFormat(EXCEL)(72.25, 1) == "72,3"
