"""The regions' overall-index chart is a real PNG drawn from the same figures as the CSV."""

from __future__ import annotations

import io
import re
from xml.etree import ElementTree

from PIL import Image

from storage.result_files import overall_chart_png, wave_report
from surveys.aggregate import Estimate
from surveys.chart import CHART_LABELS, ChartBar, Shown, chart_figure, figure_bytes, overall_chart
from tests.test_aggregate import MIN_CELL, ResultsWave, results_wave

__all__ = ["results_wave"]  # the fixture, shared with test_aggregate

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SVG_TEXT = "{http://www.w3.org/2000/svg}text"

# Novgorod overall (test_aggregate): all 65.3 [40.7, 89.9] from 6, youth 71.7 [22.9, 100]
# from 3; Sverdlovsk youth suppressed (no youth bar); Primorsky has no interval (one
# respondent); Chukotka is suppressed altogether.
HAND_BARS = [
    ChartBar(
        "Novgorod",
        Shown(Estimate(65.28, 40.66, 89.90, 0.333, 6), 6),
        Shown(Estimate(71.67, 22.85, 100.0, 0.333, 3), 3),
    ),
    ChartBar("Sverdlovsk", Shown(Estimate(65.25, 42.36, 88.20, 0.5, 6), 12_345), None),
    ChartBar("Primorsky", Shown(Estimate(40.0, None, None, 0.0, 1), 1), None),
    ChartBar("Chukotka", None, None),
]


def _image(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes every pixel: a truncated file fails here
    assert image.format == "PNG"
    return image


def _texts(language: str) -> list[str]:
    """Every piece of text the chart prints, read back from its SVG."""
    svg = figure_bytes(chart_figure(HAND_BARS, CHART_LABELS[language]), "svg")
    return [node.text or "" for node in ElementTree.fromstring(svg).iter(SVG_TEXT)]


async def test_chart_of_the_stored_wave(results_wave: ResultsWave) -> None:
    report = await wave_report(results_wave.database, results_wave.wave_id, min_cell_size=MIN_CELL)
    image = _image(await overall_chart_png(report))
    width, height = image.size
    assert width > 0 and height > 0
    # Four regions: taller than an empty chart, and different colours than a blank canvas.
    empty = _image(overall_chart([]))
    assert height > empty.size[1]
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or ()) > 10


def test_chart_from_hand_figures_in_english() -> None:
    image = _image(overall_chart(HAND_BARS, CHART_LABELS["en"]))
    assert image.size[0] == 900


def test_every_bar_states_its_score_and_respondents() -> None:
    texts = _texts("en")
    # 65.25 rounds half up to 65.3, as in the ratings file.
    for label in ("65.3 · n = 6", "71.7 · n = 3", "65.3 · n = 12345", "40.0 · n = 1"):
        assert label in texts
    assert "too few answers" in texts  # Chukotka: no bar, and no number either
    assert any("n: respondents" in text for text in texts)  # the axis says what n is


def test_the_russian_chart_writes_decimal_commas() -> None:
    texts = _texts("ru")
    assert {"65,3 · n = 6", "71,7 · n = 3", "40,0 · n = 1"} <= set(texts)
    assert not [text for text in texts if re.search(r"\d\.\d", text)]
    assert {"0", "20", "40", "60", "80", "100"} <= set(texts)  # the scale's ticks
