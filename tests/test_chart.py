"""The regions' overall-index chart is a real PNG drawn from the same figures as the CSV."""

from __future__ import annotations

import io

from PIL import Image

from storage.result_files import overall_chart_png
from surveys.aggregate import Estimate
from surveys.chart import CHART_LABELS, ChartBar, overall_chart
from tests.test_aggregate import MIN_CELL, ResultsWave, results_wave

__all__ = ["results_wave"]  # the fixture, shared with test_aggregate

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _image(png: bytes) -> Image.Image:
    assert png.startswith(PNG_SIGNATURE)
    image = Image.open(io.BytesIO(png))
    image.load()  # decodes every pixel: a truncated file fails here
    assert image.format == "PNG"
    return image


async def test_chart_of_the_stored_wave(results_wave: ResultsWave) -> None:
    png = await overall_chart_png(
        results_wave.database, results_wave.wave_id, min_cell_size=MIN_CELL
    )
    image = _image(png)
    width, height = image.size
    assert width > 0 and height > 0
    # Four regions: taller than an empty chart, and different colours than a blank canvas.
    empty = _image(overall_chart([]))
    assert height > empty.size[1]
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or ()) > 10


def test_chart_from_hand_figures_in_english() -> None:
    # Novgorod overall (test_aggregate): all 65.3 [40.7, 89.9], youth 71.7 [22.9, 100];
    # Sverdlovsk youth suppressed (no youth bar); Primorsky has no interval (one respondent).
    bars = [
        ChartBar(
            "Novgorod",
            Estimate(65.28, 40.66, 89.90, 0.333, 6),
            Estimate(71.67, 22.85, 100.0, 0.333, 3),
        ),
        ChartBar("Sverdlovsk", Estimate(65.28, 42.36, 88.20, 0.5, 6), None),
        ChartBar("Primorsky", Estimate(40.0, None, None, 0.0, 1), None),
        ChartBar("Chukotka", None, None),
    ]
    image = _image(overall_chart(bars, CHART_LABELS["en"]))
    assert image.size[0] == 900
