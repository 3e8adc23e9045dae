"""The tile map: its layout covers the region catalog exactly, and `export map` draws it.

The figures come from the wave in `test_aggregate`. With 4 as the smallest cell, Novgorod
(49) and Sverdlovsk (65) are shown (both 65.3 overall), Primorsky (05, three respondents)
is suppressed, and so is Moscow (45), which would otherwise give Primorsky away by
subtraction from the whole wave; no other region has answers.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest

from bot.cli import export as cli_export
from bot.settings import Settings
from surveys.regions import (
    BUNDLED_CATALOG_PATH,
    TILES_FILE_NAME,
    MissingTileLayout,
    TileLayoutError,
    load_catalog,
)
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
