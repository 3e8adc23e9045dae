"""A bar chart of regions' overall index, youth beside everyone; and what every figure shares.

Error bars show the 95% interval, because a league table without them invites readers to
see a difference between 71.8 and 72.4 that the sample cannot support; each bar also says
how many respondents stand behind it, for the same reason. Figures are rounded and written as
everywhere else (`surveys.figures`): one decimal, and a decimal comma in Russian.

Built on a bare `Figure` with the Agg canvas rather than pyplot: no global state, no display
needed, safe to call from the bot's worker thread while another chart is being drawn.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import matplotlib
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from surveys.aggregate import Estimate
from surveys.figures import format_figure

ImageFormat = Literal["png", "svg"]

_ALL_COLOUR = "#3b6ea8"
_YOUTH_COLOUR = "#e0893b"
#: Ticks of the 0–100 scale, on the chart and on the map's colour bar: whole numbers, so
#: no decimal mark to write.
SCALE_TICKS = range(0, 101, 20)
#: Room right of the scale for the bars' labels.
_LABEL_ROOM = 24


@dataclass(frozen=True, slots=True)
class Shown:
    """A published estimate and the number of respondents behind it."""

    estimate: Estimate
    respondents: int


@dataclass(frozen=True, slots=True)
class ChartBar:
    """One region: its label and the overall figure for everyone and for the youth track.

    None stands for a suppressed (or empty) cell, which is drawn as no bar at all.
    """

    label: str
    all: Shown | None
    youth: Shown | None


@dataclass(frozen=True, slots=True)
class ChartLabels:
    """The words of the chart and of the tile map in one language, and its decimal mark."""

    decimal: str
    title: str
    all: str
    youth: str
    axis: str
    hidden: str
    #: The tile map's colour bar, its mark on a withheld region, and its legend's grey.
    scale: str
    hidden_tile: str
    no_answers: str
    #: The tile map's subtitle: {survey}, {wave}, {start}, {end} (dates in `date_format`).
    period: str
    date_format: str
    #: The change map's title ({against}: the earlier wave), colour bar, mark and legend of
    #: a region with no published change, and the legend of its verdicts' arrows.
    change_title: str
    change_scale: str
    no_change: str
    no_change_tile: str
    improved: str
    declined: str


CHART_LABELS: dict[str, ChartLabels] = {
    "ru": ChartLabels(
        decimal=",",
        title="Индекс удовлетворённости по регионам",
        all="Все",
        youth="Молодёжь",
        axis="Индекс (0–100); отрезки — 95% доверительный интервал; n — число участников",
        hidden="мало ответов",
        scale="Индекс (0–100)",
        hidden_tile="скрыто",
        no_answers="нет ответов",
        period="{survey}, волна #{wave}: {start} – {end}",
        date_format="%d.%m.%Y",
        change_title="Изменение общего балла с волны #{against}",
        change_scale="Изменение (баллы, от −20 до +20)",
        no_change="нет сравнимых данных",
        no_change_tile="н/д",
        improved="стало лучше",
        declined="стало хуже",
    ),
    "en": ChartLabels(
        decimal=".",
        title="Satisfaction index by region",
        all="All",
        youth="Youth",
        axis="Index (0–100); whiskers: 95% confidence intervals; n: respondents",
        hidden="too few answers",
        scale="Index (0–100)",
        hidden_tile="hidden",
        no_answers="no answers",
        period="{survey}, wave #{wave}: {start} – {end}",
        date_format="%Y-%m-%d",
        change_title="Change in the overall score since wave #{against}",
        change_scale="Change (points, −20 to +20)",
        no_change="no comparable figures",
        no_change_tile="n/a",
        improved="improved",
        declined="declined",
    ),
}


def figure_bytes(figure: Figure, image_format: ImageFormat) -> bytes:
    """The figure as PNG, or as SVG whose text stays text: editable and searchable in slides.

    Without a date and with fixed element ids, the same figures give the same bytes, as
    the CSV files do: a republished site differs only where a figure did.
    """
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "civicpulse"}):
        figure.savefig(buffer, format=image_format, metadata={"Date": None})
    return buffer.getvalue()


def overall_chart(bars: Sequence[ChartBar], labels: ChartLabels | None = None) -> bytes:
    """Regions from best to worst overall index (shown ones first), as a PNG."""
    return figure_bytes(chart_figure(bars, labels or CHART_LABELS["ru"]), "png")


def chart_figure(bars: Sequence[ChartBar], labels: ChartLabels) -> Figure:
    """The chart itself, for `overall_chart` and for tests that read its text."""
    ordered = sorted(
        bars, key=lambda bar: (bar.all is None, -(bar.all.estimate.score if bar.all else 0))
    )
    figure = Figure(figsize=(9, 1.9 + 0.34 * max(len(ordered), 1)), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    height = 0.38
    for offset, colour, name, pick in (
        (-height / 2, _ALL_COLOUR, labels.all, lambda bar: bar.all),
        (height / 2, _YOUTH_COLOUR, labels.youth, lambda bar: bar.youth),
    ):
        rows = [(index, shown) for index, bar in enumerate(ordered) if (shown := pick(bar))]
        estimates = [shown.estimate for _, shown in rows]
        axes.barh(
            [index + offset for index, _ in rows],
            [estimate.score for estimate in estimates],
            height=height,
            color=colour,
            label=name,
            xerr=_whiskers(estimates),
            error_kw={"ecolor": "#333333", "capsize": 2, "elinewidth": 0.8},
        )
        for index, shown in rows:
            estimate = shown.estimate
            end = estimate.ci_high if estimate.ci_high is not None else estimate.score
            text = _bar_label(shown, labels.decimal)
            axes.text(end + 1.5, index + offset, text, va="center", fontsize=7, color="#333333")
    for index, bar in enumerate(ordered):
        if bar.all is None and bar.youth is None:
            axes.text(1, index, labels.hidden, va="center", fontsize=8, color="#777777")
    axes.set_yticks(range(len(ordered)), [bar.label for bar in ordered], fontsize=8)
    axes.set_ylim(max(len(ordered), 1) - 0.5, -0.5)
    axes.set_xlim(0, SCALE_TICKS[-1] + _LABEL_ROOM)
    axes.set_xticks(SCALE_TICKS)
    axes.set_xlabel(labels.axis)
    axes.set_title(labels.title)
    axes.grid(axis="x", alpha=0.3)
    figure.legend(loc="outside lower center", ncols=2, frameon=False)
    return figure


def _bar_label(shown: Shown, decimal: str) -> str:
    """ "72,3 · n = 41": the score and the number of respondents it rests on."""
    return f"{format_figure(shown.estimate.score, decimal=decimal)} · n = {shown.respondents}"


def _whiskers(estimates: Sequence[Estimate]) -> list[list[float]]:
    """Distances below and above each score; 0 where there is no interval (one respondent)."""
    below = [e.score - e.ci_low if e.ci_low is not None else 0.0 for e in estimates]
    above = [e.ci_high - e.score if e.ci_high is not None else 0.0 for e in estimates]
    return [below, above]
