"""The public results site of a closed wave: its figures gathered once, rendered by
`surveys.site`, and written into a folder that replaces the previous site only when whole.

Each open-data file is made of the rows `civicpulse export` writes (`storage.result_files`),
from one computation per kind shared by both levels, and the pages show those same rows.
The answers file is never part of a site, nor anything else about a person.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass, replace
from datetime import UTC, tzinfo
from pathlib import Path

from storage.backend import Backend
from storage.change import ChangeError, WaveChange, compute_change
from storage.child_process import run_in_child
from storage.repositories.actions import ActionRepository
from storage.repositories.waves import WaveRepository
from storage.result_files import (
    WaveReport,
    change_row,
    rating_row,
    region_change_map,
    region_map,
    segment_row,
    situation_row,
)
from storage.results import ratings_of, scored_topics, wave_survey
from storage.segments import scan_by_groups
from storage.situations import SituationsError, WaveSituations, compute_situations
from surveys.aggregate import LEVELS, CellKey, Ratings, with_places
from surveys.export import (
    ChangeCsv,
    FiguresCsv,
    RatingsCsv,
    SegmentRow,
    SegmentsCsv,
    SituationsCsv,
)
from surveys.model import Survey
from surveys.regions import MissingTileLayout, RegionCatalog
from surveys.segments import SplitStats, build_segments, fold_groups
from surveys.site.content import DataFile, SiteContent
from surveys.site.render import MARKER, render_site
from surveys.site.texts import LANGUAGES

#: A site is public: readable by the web server's user, whatever the publisher's umask.
_FOLDER_MODE, _FILE_MODE = 0o755, 0o644


class SiteError(ValueError):
    """A wave that cannot be published, or a folder that must not be replaced."""


@dataclass(frozen=True, slots=True)
class Published:
    directory: Path
    files: int
    size: int


async def gather_site(
    database: Backend,
    wave_id: int,
    *,
    min_cell_size: int,
    catalog: RegionCatalog,
    zone: tzinfo = UTC,
) -> SiteContent:
    """Everything a site of `wave_id` shows. Raises `UnknownWave`, or `SiteError` for a wave
    that is not closed: a public site shows finished figures only."""
    wave, survey = await wave_survey(database, wave_id)
    if wave.state != "closed":
        raise SiteError(
            f"wave {wave_id} is {wave.state}; only a closed wave is published, "
            "since an open one's figures still change"
        )
    previous = await WaveRepository(database).previous_closed(wave_id)
    against = previous.id if previous else None
    # One scan of the wave by group flags serves the ratings, the groups and the change.
    stats = await scan_by_groups(database, wave_id, survey)
    # From here on, work runs side by side wherever it can, to keep both cores busy: the
    # situations are read (SQLite, which leaves the interpreter free) while the ratings'
    # cells are worked out without their places, which the groups and the change do not
    # need.
    situations_read = asyncio.ensure_future(
        _situations(database, survey, wave_id, against, min_cell_size)
    )
    try:
        groups = await asyncio.to_thread(fold_groups, stats)
        unranked = await ratings_of(survey, groups, min_cell_size=min_cell_size, ranked=False)
        # Then the groups' cells, as much Python as all the rest, in a child process; the
        # places, drawn by numpy, which also leaves the interpreter free; and the change.
        segment_rows, ratings, change = await asyncio.gather(
            run_in_child(
                _segment_rows, wave_id, stats, survey, min_cell_size, unranked.hidden(), catalog
            ),
            asyncio.to_thread(with_places, unranked),
            _change(database, wave_id, against, min_cell_size, {wave_id: unranked}),
        )
        situations = await situations_read
    finally:
        situations_read.cancel()
    files: dict[str, DataFile] = {}
    for level in LEVELS:
        _add(
            files,
            "ratings",
            level,
            RatingsCsv,
            [rating_row(wave_id, c, catalog) for c in ratings.rows(level)],
        )
        if change is not None:
            rows = [change_row(change, cell, catalog) for cell in change.cells(level)]
            _add(files, "change", level, ChangeCsv, rows)
        _add(files, "segments", level, SegmentsCsv, segment_rows[level])
        if situations is not None:
            rows = [situation_row(situations, line, catalog) for line in situations.lines(level)]
            _add(files, "situations", level, SituationsCsv, rows)
    # The CSV files are written in a child process while this one draws the maps.
    written = asyncio.ensure_future(run_in_child(_csv_files, files))
    try:
        maps, change_maps = await _maps(WaveReport(wave, survey, ratings, catalog), change, zone)
        csv_files = await written
    finally:
        written.cancel()
    return SiteContent(
        wave_id=wave_id,
        start=wave.starts_at.astimezone(zone).date(),
        end=wave.ends_at.astimezone(zone).date(),
        survey=survey,
        catalog=catalog,
        files={name: replace(file, written=csv_files[name]) for name, file in files.items()},
        against_wave_id=change.against_wave_id if change else None,
        actions=await ActionRepository(database).listed(),
        maps=maps,
        change_maps=change_maps,
    )


def _csv_files(files: Mapping[str, DataFile]) -> dict[str, bytes]:
    return {name: file.csv_bytes() for name, file in files.items()}


async def _maps(
    report: WaveReport, change: WaveChange | None, zone: tzinfo
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The tile maps by score and by change in each language; none for a catalog without
    a tile layout."""
    maps, change_maps = {}, {}
    try:
        for language in LANGUAGES:
            maps[language] = await region_map(
                report, language=language, zone=zone, image_format="svg"
            )
            if change is not None:
                change_maps[language] = await region_change_map(
                    report, change, language=language, zone=zone, image_format="svg"
                )
    except MissingTileLayout:
        return {}, {}
    return maps, change_maps


def _add(
    files: dict[str, DataFile],
    kind: str,
    level: str,
    writer: type[FiguresCsv],
    rows: Sequence[object],
) -> None:
    name = f"{kind}-{level}"
    files[name] = DataFile(f"{name}.csv", writer, rows)


def _segment_rows(
    wave_id: int,
    stats: SplitStats,
    survey: Survey,
    min_cell_size: int,
    published_hidden: Set[CellKey],
    catalog: RegionCatalog,
) -> dict[str, list[SegmentRow]]:
    """The groups' file rows at each level: what a child process sends back, as plain rows
    are quicker through a pipe than the table's cells."""
    table = build_segments(
        stats, scored_topics(survey), min_cell_size=min_cell_size, published_hidden=published_hidden
    )
    return {
        level: [segment_row(wave_id, cell, catalog) for cell in table.rows(level)]
        for level in LEVELS
    }


async def _change(
    database: Backend,
    wave_id: int,
    against: int | None,
    min_cell_size: int,
    rated: Mapping[int, Ratings],
) -> WaveChange | None:
    """The change since the previous closed wave; None for a first wave, or one that shares
    no question asked the same way with it."""
    if against is None:
        return None
    try:
        return await compute_change(
            database, wave_id, against, min_cell_size=min_cell_size, rated=rated
        )
    except ChangeError:
        return None


async def _situations(
    database: Backend, survey: Survey, wave_id: int, against: int | None, min_cell_size: int
) -> WaveSituations | None:
    """The wave's situations, against the previous wave where it measured them alike; None
    for a survey without situations."""
    if not survey.situations:
        return None
    if against is not None:
        try:
            return await compute_situations(
                database, wave_id, min_cell_size=min_cell_size, against=against
            )
        except SituationsError:
            pass
    return await compute_situations(database, wave_id, min_cell_size=min_cell_size)


async def publish_site(
    database: Backend,
    wave_id: int,
    directory: Path,
    *,
    min_cell_size: int,
    catalog: RegionCatalog,
    zone: tzinfo = UTC,
) -> Published:
    """Gathers, renders and writes the site of `wave_id` into `directory`.

    Raises `UnknownWave`, `SiteError` or `OSError`; the previous site stays as it was.
    """
    content = await gather_site(
        database, wave_id, min_cell_size=min_cell_size, catalog=catalog, zone=zone
    )
    # Rendering and writing a few hundred files is a second of work: off the event loop.
    files = await asyncio.to_thread(render_site, content)
    return await asyncio.to_thread(write_site, files, directory)


def write_site(files: Mapping[str, bytes], directory: Path) -> Published:
    """Writes `files` into a new folder beside `directory`, then swaps it in.

    A failure halfway leaves the previous site as it was. An existing `directory` is
    replaced only if it is empty or a site published before (it holds `MARKER`): never a
    folder of something else given by mistake.
    """
    directory = directory.expanduser().absolute()
    if directory.exists() and not _replaceable(directory):
        raise SiteError(
            f"{directory} exists and is not a site published before; name a new or empty folder"
        )
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}.new-", dir=directory.parent))
    try:
        for relative, data in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            path.chmod(_FILE_MODE)
        for folder in (staging, *(p for p in staging.rglob("*") if p.is_dir())):
            folder.chmod(_FOLDER_MODE)
        _swap(staging, directory)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return Published(directory, len(files), sum(len(data) for data in files.values()))


def _replaceable(directory: Path) -> bool:
    return directory.is_dir() and ((directory / MARKER).is_file() or not any(directory.iterdir()))


def _swap(staging: Path, directory: Path) -> None:
    """Puts `staging` where `directory` is; the old site is removed only once it is out of
    the way, so a reader sees one whole site or the other."""
    if not directory.exists():
        os.replace(staging, directory)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.old-", dir=directory.parent))
    os.replace(directory, old / "site")
    os.replace(staging, directory)
    shutil.rmtree(old, ignore_errors=True)
