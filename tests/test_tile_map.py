"""The tile map: its layout covers the region catalog exactly, and `export map` draws it.

The figures come from the wave in `test_aggregate`. With 4 as the smallest cell, Novgorod
(49) and Sverdlovsk (65) are shown (both 65.3 overall), Primorsky (05, three respondents)
is suppressed, and so is Moscow (45), which would otherwise give Primorsky away by
subtraction from the whole wave; no other region has answers.
"""

from __future__ import annotations

import argparse
import shutil
from datetime import date
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from matplotlib import colormaps

from bot.cli import export as cli_export
from bot.settings import Settings
from surveys.chart import CHART_LABELS
from surveys.regions import (
    BUNDLED_CATALOG_PATH,
    TILES_FILE_NAME,
    MissingTileLayout,
    TileLayoutError,
    load_catalog,
)
from surveys.tile_map import MapHeading, change_scale, tile_map
from tests.test_aggregate import ResultsWave, results_wave

__all__ = ["results_wave"]  # the fixture, shared with test_aggregate

BUNDLED_TILES = BUNDLED_CATALOG_PATH.with_name(TILES_FILE_NAME)
SVG = "{http://www.w3.org/2000/svg}"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HIDDEN = {"45", "05"}


def test_the_bundled_layout_covers_the_catalog_exactly() -> None:
    catalog = load_catalog()
    tiles = catalog.tile_layout()
    assert sorted(tiles) == sorted(region.code for region in catalog.regions())
    assert len(set(tiles.values())) == len(tiles)  # no two regions on one square
    assert all(column >= 0 and row >= 0 for column, row in tiles.values())


def _catalog_with_tiles(folder: Path, edit: Any) -> Path:
    """A copy of the bundled catalog beside a copy of its tiles, the tiles' lines edited."""
    catalog = folder / "regions.yaml"
    shutil.copyfile(BUNDLED_CATALOG_PATH, catalog)
    lines = BUNDLED_TILES.read_text(encoding="utf-8").splitlines()
    (folder / TILES_FILE_NAME).write_text("\n".join(edit(lines)) + "\n", encoding="utf-8")
    return catalog


def _without(code: str) -> Any:
    return lambda lines: [line for line in lines if not line.startswith(f'"{code}":')]


def _replaced(code: str, entry: str) -> Any:
    return lambda lines: [entry if line.startswith(f'"{code}":') else line for line in lines]


@pytest.mark.parametrize(
    "edit,problem",
    [
        (_without("49"), "region 49 (Новгородская область) has no tile"),
        (lambda lines: [*lines, '"00": [0, 0]'], "region 00 is not in the catalog"),
        (
            _replaced("49", '"49": [4, 2]'),
            "tile [4, 2] is used more than once: region 41, region 49",
        ),
        (lambda lines: [*lines, '"49": [0, 11]'], "region 49 has a second tile"),
        (_replaced("05", "05: [14, 5]"), 'region code 5 must be quoted text such as "05"'),
        (_replaced("49", '"49": [3]'), "region 49: [3] is not [column, row]"),
    ],
    ids=["missing", "unknown", "shared", "twice", "unquoted", "malformed"],
)
def test_a_layout_that_does_not_fit_the_catalog_is_refused(
    tmp_path: Path, edit: Any, problem: str
) -> None:
    with pytest.raises(TileLayoutError) as refused:
        load_catalog(_catalog_with_tiles(tmp_path, edit))
    message = str(refused.value)
    assert message.startswith("region_tiles.yaml: the tile map does not fit the region catalog")
    assert problem in message


def test_a_catalog_of_ones_own_without_a_layout_has_no_map(tmp_path: Path) -> None:
    catalog = tmp_path / "regions.yaml"
    shutil.copyfile(BUNDLED_CATALOG_PATH, catalog)
    with pytest.raises(MissingTileLayout, match=r"put a region_tiles\.yaml beside"):
        load_catalog(catalog).tile_layout()


def _run_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli_export.register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def _settings(wave: ResultsWave) -> Settings:
    values: dict[str, Any] = {"database_path": wave.database.path, "min_cell_size": 4}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def test_export_map_writes_a_png(results_wave: ResultsWave, tmp_path: Path) -> None:
    output = tmp_path / "map.png"
    args = _run_args("export", "map", "--wave", "1", "-o", str(output))
    assert await args.handler(args, _settings(results_wave)) == 0
    assert output.read_bytes().startswith(PNG_SIGNATURE)


async def test_export_map_writes_an_svg_for_slides(
    results_wave: ResultsWave, tmp_path: Path
) -> None:
    output = tmp_path / "map.svg"  # the suffix chooses SVG; --format says it outright
    args = _run_args("export", "map", "--wave", "1", "-o", str(output))
    assert await args.handler(args, _settings(results_wave)) == 0
    root = ElementTree.fromstring(output.read_bytes())
    texts = {node.text for node in root.iter(f"{SVG}text")}
    squares = {
        group.get("id", "").removeprefix("region-"): group
        for group in root.iter(f"{SVG}g")
        if group.get("id", "").startswith("region-")
    }
    codes = {region.code for region in load_catalog().regions()}
    assert set(squares) == codes  # every region has its square, named by code
    assert codes <= texts  # and shows its code
    for code, square in squares.items():
        hatched = "url(#" in (square.find(f"{SVG}path").get("style") or "")  # type: ignore[union-attr]
        assert hatched == (code in HIDDEN), code
    assert "65,3" in texts  # the shown regions' index, in the default (Russian) locale
    assert texts >= {"скрыто", "мало ответов", "нет ответов"}
    assert any("01.11.2026 – 15.11.2026" in (text or "") for text in texts)  # the wave's dates


async def test_export_map_of_an_unknown_wave_writes_nothing(
    results_wave: ResultsWave, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "map.png"
    args = _run_args("export", "map", "--wave", "42", "-o", str(output), "--format", "svg")
    assert await args.handler(args, _settings(results_wave)) == 1
    assert "there is no wave 42" in capsys.readouterr().err
    assert not output.exists()


# The change map ---------------------------------------------------------------------------

#: Novgorod improved by 10 points, Sverdlovsk's change is too small to call, Primorsky's
#: beyond the scale; Moscow's is withheld or not comparable.
CHANGES: dict[str, float | None] = {"49": 10.0, "65": -1.25, "05": -35.0, "45": None}
SIGNED_TICKS = ["−20", "−10", "0", "+10", "+20"]
VERDICTS = {"49": "improved", "65": "no_clear_change", "05": "declined"}


def _change_svg(changes: dict[str, float | None]) -> ElementTree.Element:
    labels = CHART_LABELS["en"]
    tiles = load_catalog().tile_layout()
    heading = MapHeading("Survey", 2, date(2026, 11, 1), date(2026, 11, 15))
    image = tile_map(
        tiles,
        {**dict.fromkeys(tiles), **changes},
        heading,
        labels,
        "svg",
        scale=change_scale(labels, against_wave_id=1),
        verdicts=VERDICTS,
    )
    return ElementTree.fromstring(image)


def _square_style(root: ElementTree.Element, code: str) -> str:
    group = next(g for g in root.iter(f"{SVG}g") if g.get("id") == f"region-{code}")
    return group.find(f"{SVG}path").get("style") or ""  # type: ignore[union-attr]


def _fill(colour: tuple[float, float, float, float]) -> str:
    return "fill: " + "#{:02x}{:02x}{:02x}".format(*(round(c * 255) for c in colour[:3]))


def test_a_change_is_coloured_on_a_scale_centred_on_zero() -> None:
    root = _change_svg(CHANGES)
    purple_orange = colormaps["PuOr"]
    assert _fill(purple_orange(0.75)) in _square_style(root, "49")  # +10 of −20…+20
    assert _fill(purple_orange(0.0)) in _square_style(root, "05")  # −35, clipped at −20
    texts = [node.text or "" for node in root.iter(f"{SVG}text")]
    assert {"+10.0", "-1.3", "-35.0"} <= set(texts)  # the published figures, signed


def test_a_region_without_a_change_is_hatched_and_says_so() -> None:
    root = _change_svg(CHANGES)
    texts = [node.text or "" for node in root.iter(f"{SVG}text")]
    for code in ("45", "77"):  # withheld, and no answers at all: the same "no data"
        assert "url(#" in _square_style(root, code), code
    assert "url(#" not in _square_style(root, "49")
    assert texts.count("n/a") == len(load_catalog().tile_layout()) - 3
    assert "no comparable figures" in texts and "no answers" not in texts


def test_the_legend_gives_the_range_and_the_verdicts_arrows() -> None:
    root = _change_svg(CHANGES)
    texts = [node.text or "" for node in root.iter(f"{SVG}text")]
    assert [text for text in texts if text in SIGNED_TICKS] == SIGNED_TICKS
    assert "Change (points, −20 to +20)" in texts
    assert any("since wave #1" in text for text in texts)
    assert texts.count("▲") == 1 and texts.count("▼") == 1  # not for no clear change
    assert {"improved", "declined"} <= set(texts)
