"""A figure by region as a tile map: a square per region, placed like the country.

A map of the real borders would give Yakutia a hundred times the room of Moscow and leave
Moscow, Saint Petersburg, Sevastopol and the Caucasus republics too small to see; a square
each gives every region the same weight, as the index does. Squares are placed by region
code from the layout beside the region catalog (`RegionCatalog.tile_layout`) and coloured on
a `MapScale` fixed in advance, so that waves compare: the overall index on cividis over
0–100 (`score_scale`), or its change since an earlier wave on purple–orange centred on 0
(`change_scale`); both read with red-green colour blindness. A region without a figure is
hatched and says so in words, and a change's verdict is an arrow: never colour alone.

Pure drawing: the figures arrive as arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, Rectangle

from surveys.chart import SCALE_TICKS, ChartLabels, ImageFormat, figure_bytes
from surveys.figures import format_figure
from surveys.regions import Tile

#: A verdict's arrow on its square, and the same shape in the legend.
_ARROWS: Mapping[str, tuple[str, str]] = {"improved": ("▲", "^"), "declined": ("▼", "v")}
_HIDDEN = {"facecolor": "#f4f4f4", "hatch": "////", "hatchcolor": "#ababab"}
_NO_ANSWERS = {"facecolor": "#d9d9d9"}
_GAP = 0.06  # between squares, in squares
_INCHES_PER_TILE = 0.6


@dataclass(frozen=True, slots=True)
class MapScale:
    """What a map's colours mean: `colours` (a matplotlib colour map) spans `low`…`high`,
    and a figure beyond it takes the end's colour; the colour bar is marked at `ticks`.
    `signed` writes figures as changes (+5.2). The words are the title, the colour bar's,
    and those of a region with answers but no figure: its legend and its square's mark."""

    low: float
    high: float
    colours: str
    ticks: Sequence[float]
    signed: bool
    title: str
    label: str
    hidden: str
    hidden_tile: str

    def figure(self, value: float, decimal: str) -> str:
        text = format_figure(value, decimal=decimal)
        return f"+{text}" if self.signed and value > 0 and text.strip("0.,") else text

    def tick(self, value: float) -> str:
        """A mark of the colour bar: a whole number, signed on a scale of changes."""
        return f"{value:+g}".replace("-", "−") if self.signed and value else f"{value:g}"


def score_scale(labels: ChartLabels) -> MapScale:
    """The overall index, 0–100."""
    return MapScale(
        low=0,
        high=100,
        colours="cividis",
        ticks=SCALE_TICKS,
        signed=False,
        title=labels.title,
        label=labels.scale,
        hidden=labels.hidden,
        hidden_tile=labels.hidden_tile,
    )


#: The change map's reach: a change of 20 points between waves is already a large one.
CHANGE_REACH = 20


def change_scale(labels: ChartLabels, against_wave_id: int) -> MapScale:
    """The change of the overall index since `against_wave_id`, −20…+20 around 0."""
    return MapScale(
        low=-CHANGE_REACH,
        high=CHANGE_REACH,
        colours="PuOr",  # orange for worse, purple for better, near white at 0
        ticks=range(-CHANGE_REACH, CHANGE_REACH + 1, 10),
        signed=True,
        title=labels.change_title.format(against=against_wave_id),
        label=labels.change_scale,
        hidden=labels.no_change,
        hidden_tile=labels.no_change_tile,
    )


@dataclass(frozen=True, slots=True)
class MapHeading:
    """Which wave the map shows, for its subtitle."""

    survey: str
    wave_id: int
    start: date
    end: date


def tile_map(
    tiles: Mapping[str, Tile],
    scores: Mapping[str, float | None],
    heading: MapHeading,
    labels: ChartLabels,
    image_format: ImageFormat = "png",
    *,
    scale: MapScale | None = None,
    verdicts: Mapping[str, str] | None = None,
) -> bytes:
    """The map as PNG or SVG bytes, on `scale` (the overall index's when None); see
    `_figure`."""
    scale = scale or score_scale(labels)
    figure = _figure(tiles, scores, heading, labels, scale, verdicts or {})
    return figure_bytes(figure, image_format)


def _figure(
    tiles: Mapping[str, Tile],
    scores: Mapping[str, float | None],
    heading: MapHeading,
    labels: ChartLabels,
    scale: MapScale,
    verdicts: Mapping[str, str],
) -> Figure:
    """Every region of `tiles`, by what `scores` holds for its code.

    A number is the region's published figure; None marks a region with answers but no
    figure (withheld: too few, or they would reveal a withheld neighbour's; or, for a
    change, not comparable); a region missing from `scores` had no answers. A region's
    verdict of improved or declined adds its arrow. In SVG each square is the group
    `region-CODE`.
    """
    columns = max(column for column, _ in tiles.values()) + 1
    rows = max(row for _, row in tiles.values()) + 1
    size = (columns * _INCHES_PER_TILE + 0.4, rows * _INCHES_PER_TILE + 1.6)
    figure = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    norm = Normalize(scale.low, scale.high, clip=True)
    colours = colormaps[scale.colours]
    for code, (column, row) in tiles.items():
        square = _Square(code, column, row)
        if code not in scores:
            square.draw(axes, _NO_ANSWERS, "#666666", "")
        elif (score := scores[code]) is None:
            square.draw(axes, _HIDDEN, "#333333", scale.hidden_tile)
        else:
            colour = colours(norm(score))
            ink = _ink(colour)
            square.draw(axes, {"facecolor": colour}, ink, scale.figure(score, labels.decimal))
            if (verdict := verdicts.get(code)) in _ARROWS:
                square.arrow(axes, _ARROWS[verdict][0], ink)
    axes.set_xlim(0, columns)
    axes.set_ylim(rows, 0)  # row 0 at the top: north up
    axes.set_aspect("equal")
    axes.set_axis_off()
    axes.legend(
        handles=_legend(tiles, scores, verdicts, labels, scale),
        loc="lower right",
        frameon=False,
        fontsize=9,
    )
    bar = figure.colorbar(
        ScalarMappable(norm, colours),
        ax=axes,
        orientation="horizontal",
        location="bottom",
        shrink=0.5,
        aspect=40,
        label=scale.label,
    )
    bar.set_ticks(list(scale.ticks), labels=[scale.tick(t) for t in scale.ticks])
    figure.suptitle(f"{scale.title}\n{_subtitle(heading, labels)}", fontsize=12)
    return figure


def _legend(
    tiles: Mapping[str, Tile],
    scores: Mapping[str, float | None],
    verdicts: Mapping[str, str],
    labels: ChartLabels,
    scale: MapScale,
) -> list[Patch | Line2D]:
    """The legend of the squares the map has: hatched, grey, and the verdicts' arrows."""
    handles: list[Patch | Line2D] = [Patch(**_HIDDEN, label=scale.hidden)]
    if any(code not in scores for code in tiles):
        handles.append(Patch(**_NO_ANSWERS, label=labels.no_answers))
    for verdict, words in (("improved", labels.improved), ("declined", labels.declined)):
        if verdict in verdicts.values():
            marker = _ARROWS[verdict][1]
            handles.append(Line2D([], [], marker=marker, color="black", ls="none", label=words))
    return handles


@dataclass(frozen=True, slots=True)
class _Square:
    """One region's square: its fill, code, figure or mark, and a verdict's arrow."""

    code: str
    column: int
    row: int

    def draw(self, axes: Axes, style: Mapping[str, object], ink: str, note: str) -> None:
        centre_x, top = self.column + 0.5, self.row + _GAP / 2
        side = 1 - _GAP
        square = Rectangle((self.column + _GAP / 2, top), side, side, linewidth=0, **style)
        square.set_gid(f"region-{self.code}")
        axes.add_patch(square)
        axes.text(centre_x, top + 0.3, self.code, ha="center", va="center", fontsize=8, color=ink)
        if note:
            axes.text(centre_x, top + 0.64, note, ha="center", va="center", fontsize=8.5, color=ink)

    def arrow(self, axes: Axes, arrow: str, ink: str) -> None:
        corner_x, corner_y = self.column + 1 - _GAP, self.row + _GAP + 0.1
        axes.text(corner_x, corner_y, arrow, ha="right", va="center", fontsize=9, color=ink)


def _ink(colour: tuple[float, float, float, float]) -> str:
    """White on the dark end of the scale, black on the light end."""
    red, green, blue, _ = colour
    return "white" if 0.2126 * red + 0.7152 * green + 0.0722 * blue < 0.45 else "black"


def _subtitle(heading: MapHeading, labels: ChartLabels) -> str:
    return labels.period.format(
        survey=heading.survey,
        wave=heading.wave_id,
        start=heading.start.strftime(labels.date_format),
        end=heading.end.strftime(labels.date_format),
    )
