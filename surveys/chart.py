"""A bar chart of regions' overall index, youth beside everyone, as PNG bytes.

Error bars show the 95% interval, because a league table without them invites readers to
see a difference between 71.8 and 72.4 that the sample cannot support. Built on a bare
`Figure` with the Agg canvas rather than pyplot: no global state, no display needed, safe
to call from the bot's worker thread while another chart is being drawn.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from surveys.aggregate import Estimate

_ALL_COLOUR = "#3b6ea8"
_YOUTH_COLOUR = "#e0893b"


@dataclass(frozen=True, slots=True)
class ChartBar:
    """One region: its label and the overall estimate for everyone and for the youth track.

    None stands for a suppressed (or empty) cell, which is drawn as no bar at all.
    """

    label: str
    all: Estimate | None
    youth: Estimate | None


@dataclass(frozen=True, slots=True)
class ChartLabels:
    title: str
    all: str
    youth: str
    axis: str
    hidden: str


CHART_LABELS: dict[str, ChartLabels] = {
    "ru": ChartLabels(
        title="Индекс удовлетворённости по регионам",
        all="Все",
        youth="Молодёжь",
        axis="Индекс (0–100); отрезки — 95% доверительный интервал",
        hidden="мало ответов",
    ),
    "en": ChartLabels(
        title="Satisfaction index by region",
        all="All",
        youth="Youth",
        axis="Index (0–100); whiskers are 95% confidence intervals",
        hidden="too few answers",
    ),
}


def overall_chart(bars: Sequence[ChartBar], labels: ChartLabels | None = None) -> bytes:
    """Regions from best to worst overall index (shown ones first), as a PNG."""
    labels = labels or CHART_LABELS["ru"]
    ordered = sorted(bars, key=lambda bar: (bar.all is None, -(bar.all.score if bar.all else 0)))
    figure = Figure(figsize=(9, 1.9 + 0.34 * max(len(ordered), 1)), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    height = 0.38
    for offset, colour, name, pick in (
        (-height / 2, _ALL_COLOUR, labels.all, lambda bar: bar.all),
        (height / 2, _YOUTH_COLOUR, labels.youth, lambda bar: bar.youth),
    ):
        rows = [(index, pick(bar)) for index, bar in enumerate(ordered) if pick(bar) is not None]
        axes.barh(
            [index + offset for index, _ in rows],
            [estimate.score for _, estimate in rows],
            height=height,
            color=colour,
            label=name,
            xerr=_whiskers([estimate for _, estimate in rows]),
            error_kw={"ecolor": "#333333", "capsize": 2, "elinewidth": 0.8},
        )
    for index, bar in enumerate(ordered):
        if bar.all is None and bar.youth is None:
            axes.text(1, index, labels.hidden, va="center", fontsize=8, color="#777777")
    axes.set_yticks(range(len(ordered)), [bar.label for bar in ordered], fontsize=8)
    axes.set_ylim(max(len(ordered), 1) - 0.5, -0.5)
    axes.set_xlim(0, 100)
    axes.set_xlabel(labels.axis)
    axes.set_title(labels.title)
    axes.grid(axis="x", alpha=0.3)
    figure.legend(loc="outside lower center", ncols=2, frameon=False)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _whiskers(estimates: Sequence[Estimate]) -> list[list[float]]:
    """Distances below and above each score; 0 where there is no interval (one respondent)."""
    below = [e.score - e.ci_low if e.ci_low is not None else 0.0 for e in estimates]
    above = [e.ci_high - e.score if e.ci_high is not None else 0.0 for e in estimates]
    return [below, above]
