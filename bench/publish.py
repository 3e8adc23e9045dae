"""Benchmark of `civicpulse publish`: the public site of a national wave.

Not a test: it prints its figures. It writes a region catalog of its own into the cache —
the 85 regions of the bundled catalog, each with generated municipalities (8-digit
OKTMO-style codes under the region's code, "Муниципальный район 12" / "Municipal district
12"), 2,000 in all by default, and the bundled tile map beside it — and builds (once, then
caches) a database like `bench/export.py`'s whose respondents live in that catalog's
municipalities: two closed waves of 500,000 respondents each, ten million answers by
default. Then it publishes the second wave's site — the ratings, the change since the first
wave, the groups and the situations at both levels, a page per region in two languages, the
map — exactly as a person types it, in a fresh process with REGIONS_FILE pointing at the
catalog, and reports the wall time, CPU time and peak memory, and the site's size.

    .venv/bin/python bench/publish.py                    # full size (builds ~0.8 GB once)
    .venv/bin/python bench/publish.py --respondents 20000
    .venv/bin/python bench/publish.py --stages           # and where the time goes

Target: under 30 s. Exits with status 1 if it is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from bench.export import (  # noqa: E402
    CACHE,
    MIN_CELL_SIZE,
    NEW_WAVE,
    _load,
    build,
    civicpulse,
    warm_up,
)
from surveys.regions import (  # noqa: E402
    BUNDLED_CATALOG_PATH,
    TILES_FILE_NAME,
    RegionCatalog,
    load_catalog,
)

TARGET_SECONDS = 30.0
MUNICIPALITIES = 2_000


# The catalog ------------------------------------------------------------------------------------


def catalog_path(municipalities: int) -> Path:
    return CACHE / f"regions-{municipalities}" / "regions.yaml"


def write_catalog(municipalities: int) -> Path:
    """The bundled catalog's districts and regions, each with generated municipalities (their
    number spread as evenly as it goes), and the bundled tile map beside it, whose regions
    are the same. Written afresh each run: it is small, and always what this code makes."""
    bundled = load_catalog()
    regions = bundled.regions()
    if municipalities < len(regions):
        raise SystemExit(f"--municipalities: at least one a region ({len(regions)})")
    share, extra = divmod(municipalities, len(regions))
    counts = {region.code: share + (index < extra) for index, region in enumerate(regions)}
    data = {
        "classifier": "Benchmark catalog: the bundled subjects, generated municipalities.",
        "federal_districts": [
            {
                "code": district.code,
                "name": district.name.model_dump(),
                "regions": [
                    {
                        "code": region.code,
                        "name": region.name.model_dump(),
                        **({"okato": region.okato} if region.okato else {}),
                        "municipalities": [
                            {
                                "code": _oktmo(region.code, number),
                                "name": {
                                    "ru": f"Муниципальный район {number}",
                                    "en": f"Municipal district {number}",
                                },
                            }
                            for number in range(1, counts[region.code] + 1)
                        ],
                    }
                    for region in district.regions
                ],
            }
            for district in bundled.federal_districts
        ],
    }
    path = catalog_path(municipalities)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(text, encoding="utf-8")
    tiles = BUNDLED_CATALOG_PATH.with_name(TILES_FILE_NAME)
    shutil.copyfile(tiles, path.with_name(TILES_FILE_NAME))
    catalog = load_catalog(path)  # checked as the command will check it, tiles included
    assert sum(len(r.municipalities) for r in catalog.regions()) == municipalities
    catalog.tile_layout()
    return path


def _oktmo(region: str, number: int) -> str:
    """A municipal district's OKTMO-style code: the region's prefix, then 6 (a municipal
    district's block in OKTMO) and its number, padded to 8 digits. A 2-digit region's codes
    start with its code and 6, so they never fall in an autonomous okrug's 3-digit block
    (118, 718, 719), which a longest-prefix rule would give them to."""
    tail = f"6{number:02d}"
    code = region + tail + "0" * (8 - len(region) - len(tail))
    assert len(code) == 8 and number < 100, (region, number)
    return code


def database_path(respondents: int, municipalities: int) -> Path:
    """The database's own name: its respondents live in the generated catalog."""
    return CACHE / f"bench-2waves-{respondents}-m{municipalities}.db"


# Where the time goes ----------------------------------------------------------------------------

#: The steps of `publish_site` in `storage/site.py`, timed where they are called. Many
#: run side by side (`run_in_child` is the work of the child processes: the groups, then
#: the CSV files), so their times overlap.
_STAGES = (
    "scan_by_groups",
    "fold_groups",
    "ratings_of",
    "compute_situations",
    "with_places",
    "compute_change",
    "run_in_child",
    "region_map",
    "region_change_map",
    "render_site",
    "write_site",
)


def child_stages(database: Path, catalog: Path, output: Path) -> None:
    """The real `publish_site` in this process, with each of its steps wrapped in a timer;
    the rest of the gathering (the CSV rows, the actions) is the time no step covered."""
    import storage.site as site
    from storage.database import Database

    spent: dict[str, float] = {}
    #: Every step's (start, end), for the time no step covered: some run side by side.
    spans: list[tuple[float, float]] = []

    def count(name: str, started: float) -> None:
        ended = time.perf_counter()
        spent[name] = spent.get(name, 0.0) + ended - started
        spans.append((started, ended))

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        if asyncio.iscoroutinefunction(function):

            @functools.wraps(function)
            async def wrapper(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await function(*args, **kwargs)
                finally:
                    count(name, started)

            return wrapper

        @functools.wraps(function)
        def plain(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                count(name, started)

        return plain

    for name in _STAGES:
        if hasattr(site, name):
            setattr(site, name, timed(name, getattr(site, name)))

    async def publish() -> None:
        db = await Database.open(database)
        try:
            await site.publish_site(
                db, NEW_WAVE, output, min_cell_size=MIN_CELL_SIZE, catalog=regions
            )
        finally:
            await db.close()

    started = time.perf_counter()
    regions = load_catalog(catalog)
    spent["load the catalog"] = time.perf_counter() - started
    cpu = time.process_time()
    asyncio.run(publish())
    total = time.perf_counter() - started
    print(f"stages (in one process, start-up excluded; {time.process_time() - cpu:.1f} s CPU):")
    for name, seconds in spent.items():
        print(f"  {name:<22} {seconds:6.2f} s")
    print(f"  {'the rest':<22} {total - _covered(spans) - spent['load the catalog']:6.2f} s")
    print(f"  {'in all':<22} {total:6.2f} s")


def _covered(spans: list[tuple[float, float]]) -> float:
    """Seconds inside at least one of `spans`."""
    covered, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        covered += max(0.0, end - max(start, reach))
        reach = max(reach, end)
    return covered


# Running ----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--respondents", type=int, default=500_000, help="per wave")
    parser.add_argument(
        "--municipalities", type=int, default=MUNICIPALITIES, help="in the generated catalog"
    )
    parser.add_argument("--repeat", type=int, default=1, help="runs (median)")
    parser.add_argument("--rebuild", action="store_true", help="ignore the cached database")
    parser.add_argument("--stages", action="store_true", help="then time each stage")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--catalog", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child == "stages":
        child_stages(args.db, args.catalog, args.output)
        return

    print(_load(), "at the start")
    CACHE.mkdir(parents=True, exist_ok=True)
    CACHE.chmod(0o700)  # the database in it is personal data, as the bot's is
    catalog = write_catalog(args.municipalities)
    path = database_path(args.respondents, args.municipalities)
    if args.rebuild or not path.exists():
        print(
            f"building {path.name} ({args.respondents:,} respondents × 2 waves over "
            f"{args.municipalities:,} municipalities)…",
            file=sys.stderr,
        )
        build(path, args.respondents, catalog=load_catalog(catalog))
    for part in path.parent.glob(path.name + "*"):
        part.chmod(0o600)  # personal data, as the bot's database is
    warm_up(path)
    site = CACHE / "site"
    runs = civicpulse(
        path,
        ["publish", "--wave", str(NEW_WAVE), "-o", str(site)],
        args.repeat,
        env={"REGIONS_FILE": str(catalog)},
    )
    met = runs.median < TARGET_SECONDS
    print(
        f"civicpulse publish --wave {NEW_WAVE} ({args.respondents:,} respondents a wave, "
        f"{_municipality_count(load_catalog(catalog)):,} municipalities in 85 regions): "
        f"{runs.median:.2f} s {runs.spread()} wall, {runs.median_cpu:.2f} s CPU, "
        f"{runs.peak:.0f} MB peak; target under {TARGET_SECONDS:.0f} s: "
        f"{'met' if met else 'MISSED'}"
    )
    _print_size(site)
    shutil.rmtree(site)
    if args.stages or not met:
        _stages(path, catalog, site)
    print(_load(), "at the end")
    sys.exit(0 if met else 1)


def _municipality_count(catalog: RegionCatalog) -> int:
    return sum(len(region.municipalities) for region in catalog.regions())


def _print_size(site: Path) -> None:
    files = [p for p in site.rglob("*") if p.is_file()]
    pages = [p for p in files if p.suffix == ".html"]
    data = [p for p in files if p.suffix == ".csv"]
    total = sum(p.stat().st_size for p in files)
    csv = sum(p.stat().st_size for p in data)
    print(
        f"site: {len(files)} files ({len(pages)} pages, {len(data)} CSV files), "
        f"{total / 2**20:.1f} MB, of which the CSV files {csv / 2**20:.1f} MB"
    )


def _stages(path: Path, catalog: Path, site: Path) -> None:
    """Each stage of the same publish timed, in a fresh process with the same settings."""
    import subprocess

    command = [sys.executable, __file__, "--child", "stages", "--db", str(path)]
    command += ["--catalog", str(catalog), "--output", str(site)]
    subprocess.run(command, check=True, cwd=CACHE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    shutil.rmtree(site, ignore_errors=True)


if __name__ == "__main__":
    main()
