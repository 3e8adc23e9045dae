"""The wave's overall index by region as a tile map: a square per region, placed like the country.

A map of the real borders would give Yakutia a hundred times the room of Moscow and leave
Moscow, Saint Petersburg, Sevastopol and the Caucasus republics too small to see; a square
each gives every region the same weight, as the index does. Squares are placed by region
code from the layout beside the region catalog (`RegionCatalog.tile_layout`), coloured on
cividis, a scale that reads the same with red-green colour blindness and in greyscale, fixed
at 0–100 so that waves compare. A region whose figures are withheld is hatched and says so
in words, not by colour alone.

Pure drawing: the figures arrive as arguments.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from surveys.chart import SCALE_TICKS, ChartLabels, ImageFormat, figure_bytes
from surveys.figures import format_figure
from surveys.regions import Tile

_SCALE = colormaps["cividis"]
_NORM = Normalize(0, 100)
_HIDDEN = {"facecolor": "#f4f4f4", "hatch": "////", "hatchcolor": "#ababab"}
_NO_ANSWERS = {"facecolor": "#d9d9d9"}
_GAP = 0.06  # between squares, in squares
_INCHES_PER_TILE = 0.6


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
) -> bytes:
    """The map as PNG or SVG bytes; see `_figure`."""
    return figure_bytes(_figure(tiles, scores, heading, labels), image_format)


def _figure(
    tiles: Mapping[str, Tile],
    scores: Mapping[str, float | None],
    heading: MapHeading,
    labels: ChartLabels,
) -> Figure:
    """Every region of `tiles`, by what `scores` holds for its code.

    A number is the region's published overall index; None marks a region with answers whose
    figures are withheld (too few, or they would reveal a withheld neighbour's); a region
    missing from `scores` had no answers. In SVG each square is the group `region-CODE`.
    """
    columns = max(column for column, _ in tiles.values()) + 1
    rows = max(row for _, row in tiles.values()) + 1
    size = (columns * _INCHES_PER_TILE + 0.4, rows * _INCHES_PER_TILE + 1.6)
    figure = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    for code, (column, row) in tiles.items():
        _draw_tile(axes, code, column, row, scores, labels)
    axes.set_xlim(0, columns)
    axes.set_ylim(rows, 0)  # row 0 at the top: north up
    axes.set_aspect("equal")
    axes.set_axis_off()
    axes.legend(
        handles=[
            Patch(**_HIDDEN, label=labels.hidden),
            Patch(**_NO_ANSWERS, label=labels.no_answers),
        ],
        loc="lower right",
        frameon=False,
        fontsize=9,
    )
    scale = figure.colorbar(
        ScalarMappable(_NORM, _SCALE),
        ax=axes,
        orientation="horizontal",
        location="bottom",
        shrink=0.5,
        aspect=40,
        label=labels.scale,
    )
    scale.set_ticks(SCALE_TICKS)
    figure.suptitle(f"{labels.title}\n{_subtitle(heading, labels)}", fontsize=12)
    return figure


def _draw_tile(
    axes: Axes,
    code: str,
    column: int,
    row: int,
    scores: Mapping[str, float | None],
    labels: ChartLabels,
) -> None:
    centre_x, top = column + 0.5, row + _GAP / 2
    side = 1 - _GAP
    if code not in scores:
        style, ink, note = _NO_ANSWERS, "#666666", ""
    elif (score := scores[code]) is None:
        style, ink, note = _HIDDEN, "#333333", labels.hidden_tile
    else:
        colour = _SCALE(_NORM(score))
        style, ink = {"facecolor": colour}, _ink(colour)
        note = format_figure(score, decimal=labels.decimal)
    square = Rectangle((column + _GAP / 2, top), side, side, linewidth=0, **style)
    square.set_gid(f"region-{code}")
    axes.add_patch(square)
    axes.text(centre_x, top + 0.3, code, ha="center", va="center", fontsize=8, color=ink)
    if note:
        axes.text(centre_x, top + 0.64, note, ha="center", va="center", fontsize=8.5, color=ink)


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
