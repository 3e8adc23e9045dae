"""A wave's results as files: the ratings, change, series, segments, situations and answers
CSV, the chart and the map.

Made from the scans in `storage.results`; what the CLI's `export` and the chat's exports
and `/report` call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, tzinfo
from functools import partial
from typing import TYPE_CHECKING, BinaryIO

from storage.backend import Backend
from storage.change import WaveChange, compute_change, compute_survey_series
from storage.repositories.waves import Wave
from storage.results import (
    Progress,
    compute_ratings,
    stream_answer_rows,
    wave_survey,
)
from storage.segments import compute_segments
from storage.situations import WaveSituations, compute_situations
from surveys.aggregate import OVERALL, WAVE, Area, Cell, CellTrack, Level, Ratings
from surveys.change import ChangeCell
from surveys.export import (
    AnswersCsv,
    ChangeCsv,
    ChangeRow,
    RatingRow,
    RatingsCsv,
    SegmentRow,
    SegmentsCsv,
    SeriesCsv,
    SeriesRow,
    SituationRow,
    SituationsCsv,
)
from surveys.model import Survey
from surveys.pseudonym import Pseudonymizer
from surveys.regions import RegionCatalog, load_catalog
from surveys.segments import SegmentCell
from surveys.series import SeriesCell
from surveys.situations import SituationLine
from surveys.weighting import PopulationTable

if TYPE_CHECKING:
    from surveys.chart import ImageFormat, Shown
    from surveys.tile_map import MapHeading


def area_labels(catalog: RegionCatalog, area: Area) -> Mapping[str, str]:
    """The columns that say which area a row is, names in Russian from the catalog (empty
    where it has none), shared by every file of figures. Not to be changed: an area's
    columns are made once and stand in each of its rows."""
    return _AREA_LABELS.of(catalog, area)


class _AreaLabels:
    """Each area's columns, looked up once per area: a municipality stands in hundreds of
    rows, and a catalog lookup costs more than the row it names. Kept for the latest
    catalog only, known by identity (a catalog is frozen); the catalog and its columns are
    replaced together, so that a thread with another catalog never reads the wrong names."""

    def __init__(self) -> None:
        self._latest: tuple[RegionCatalog | None, dict[Area, dict[str, str]]] = (None, {})

    def of(self, catalog: RegionCatalog, area: Area) -> Mapping[str, str]:
        latest_catalog, labels = self._latest
        if latest_catalog is not catalog:
            labels = {}
            self._latest = (catalog, labels)
        found = labels.get(area)
        if found is None:
            found = labels[area] = _look_up(catalog, area)
        return found


def _look_up(catalog: RegionCatalog, area: Area) -> dict[str, str]:
    region_code = area[0] if area else ""
    municipality_code = area[1] if len(area) > 1 else ""
    region = catalog.region(region_code)
    municipality = (
        catalog.municipality(region_code, municipality_code) if municipality_code else None
    )
    return {
        "region_code": region_code,
        "region_name": region.name.ru if region else "",
        "municipality_code": municipality_code,
        "municipality_name": municipality.name.ru if municipality else "",
    }


_AREA_LABELS = _AreaLabels()


def rating_row(wave_id: int, cell: Cell, catalog: RegionCatalog) -> RatingRow:
    """A cell as a ratings-file row; suppressed rows carry neither score nor count, and a
    withheld share goes with its interval."""
    shown = cell.estimate if not cell.suppressed else None
    share = shown if not cell.share_withheld else None
    return RatingRow(
        wave_id=wave_id,
        **area_labels(catalog, cell.area),
        track=cell.track,
        topic=cell.topic,
        respondents=None if cell.suppressed else cell.respondents,
        score=shown.score if shown else None,
        ci_low=shown.ci_low if shown else None,
        ci_high=shown.ci_high if shown else None,
        satisfied_share=share.satisfied_share if share else None,
        rank=cell.rank,
        suppressed=cell.suppressed,
        rank_low=cell.rank_low,
        rank_high=cell.rank_high,
        group=cell.group,
        share_low=share.share_low if share else None,
        share_high=share.share_high if share else None,
    )


async def ratings_rows(
    database: Backend,
    wave_id: int,
    *,
    level: Level = "region",
    min_cell_size: int,
    population: PopulationTable | None = None,
    catalog: RegionCatalog | None = None,
    progress: Progress | None = None,
    regions: frozenset[str] | None = None,
) -> list[RatingRow]:
    """The ratings file's rows, in its order. Raises `UnknownWave`, `PopulationError`.

    `regions` keeps only those regions' rows (None: every region), as a regional member of
    staff receives the file: rows of the full computation, so ranks still compare every
    region and every cell is suppressed exactly as in the full file.
    """
    _, ratings = await compute_ratings(
        database,
        wave_id,
        min_cell_size=min_cell_size,
        population=population,
        progress=progress,
    )
    catalog = catalog or load_catalog()
    return [
        rating_row(wave_id, cell, catalog)
        for cell in ratings.rows(level)
        if regions is None or cell.area[0] in regions
    ]


async def write_ratings_csv(
    database: Backend,
    wave_id: int,
    target: BinaryIO,
    *,
    level: Level = "region",
    min_cell_size: int,
    population: PopulationTable | None = None,
    excel: bool = False,
    catalog: RegionCatalog | None = None,
    progress: Progress | None = None,
    regions: frozenset[str] | None = None,
) -> int:
    """Writes the ratings file into a binary stream; returns the number of rows.

    Nothing is written before the figures are complete, so an unknown wave or a population
    file that misses a region leaves `target` untouched. `regions` as in `ratings_rows`.
    """
    rows = await ratings_rows(
        database,
        wave_id,
        level=level,
        min_cell_size=min_cell_size,
        population=population,
        catalog=catalog,
        progress=progress,
        regions=regions,
    )
    out = RatingsCsv(target, excel=excel)
    out.write_many(rows)
    return out.rows


def change_row(change: WaveChange, cell: ChangeCell, catalog: RegionCatalog) -> ChangeRow:
    """A change cell as a row; only a comparable, shown cell carries figures and a verdict."""
    before, after, estimate = cell.before, cell.after, cell.change
    return ChangeRow(
        wave_id=change.wave_id,
        against_wave_id=change.against_wave_id,
        **area_labels(catalog, cell.area),
        track=cell.track,
        topic=cell.topic,
        respondents_before=before.respondents if before else None,
        score_before=before.estimate.score if before and before.estimate else None,
        respondents=after.respondents if after else None,
        score=after.estimate.score if after and after.estimate else None,
        change=estimate.change if estimate else None,
        change_low=estimate.low if estimate else None,
        change_high=estimate.high if estimate else None,
        verdict=estimate.verdict if estimate else None,
        comparable=cell.comparable,
        suppressed=cell.suppressed,
    )


async def write_change_csv(
    database: Backend,
    wave_id: int,
    against_wave_id: int,
    target: BinaryIO,
    *,
    level: Level = "region",
    min_cell_size: int,
    partial: bool = False,
    population: PopulationTable | None = None,
    excel: bool = False,
    catalog: RegionCatalog | None = None,
) -> int:
    """Writes the change file into a binary stream; returns the number of rows.

    Raises `UnknownWave`, `PopulationError` or `ChangeError` before anything is written.
    """
    change = await compute_change(
        database,
        wave_id,
        against_wave_id,
        min_cell_size=min_cell_size,
        partial=partial,
        population=population,
    )
    catalog = catalog or load_catalog()
    out = ChangeCsv(target, excel=excel)
    out.write_many(change_row(change, cell, catalog) for cell in change.cells(level))
    return out.rows


def series_row(survey_id: str, wave: Wave, cell: SeriesCell, catalog: RegionCatalog) -> SeriesRow:
    """One wave's cell of a series as a row: figures only where comparable and shown, the
    change only where the previous wave's cell is shown too."""
    shown = cell.cell.estimate if cell.cell else None
    change = cell.change
    return SeriesRow(
        survey_id=survey_id,
        wave_id=wave.id,
        wave_ends_at=wave.ends_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        **area_labels(catalog, cell.area),
        track=cell.track,
        topic=cell.topic,
        respondents=cell.cell.respondents if cell.cell else None,
        score=shown.score if shown else None,
        ci_low=shown.ci_low if shown else None,
        ci_high=shown.ci_high if shown else None,
        change=change.change if change else None,
        change_low=change.low if change else None,
        change_high=change.high if change else None,
        verdict=change.verdict if change else None,
        comparable=cell.comparable,
        suppressed=cell.suppressed,
    )


async def write_series_csv(
    database: Backend,
    survey_id: str,
    target: BinaryIO,
    *,
    level: Level = "region",
    min_cell_size: int,
    population: PopulationTable | None = None,
    excel: bool = False,
    catalog: RegionCatalog | None = None,
) -> int:
    """Writes the series file (every closed wave of the survey, area × track × topic ×
    wave) into a binary stream; returns the number of rows.

    Raises `PopulationError` or `ChangeError` before anything is written.
    """
    found = await compute_survey_series(
        database, survey_id, min_cell_size=min_cell_size, population=population
    )
    catalog = catalog or load_catalog()
    out = SeriesCsv(target, excel=excel)
    for line in found.series.lines(level):
        out.write_many(
            series_row(survey_id, wave, cell, catalog)
            for wave, cell in zip(found.waves, line, strict=True)
        )
    return out.rows


def segment_row(wave_id: int, cell: SegmentCell, catalog: RegionCatalog) -> SegmentRow:
    """A group's cell as a row: a suppressed one carries neither side's figures."""
    group, rest, gap = cell.group, cell.rest, cell.gap
    return SegmentRow(
        wave_id=wave_id,
        **area_labels(catalog, cell.area),
        track=cell.track,
        topic=cell.topic,
        segment=cell.segment,
        respondents=cell.respondents,
        score=group.score if group else None,
        ci_low=group.ci_low if group else None,
        ci_high=group.ci_high if group else None,
        rest_respondents=cell.rest_respondents,
        rest_score=rest.score if rest else None,
        gap=gap.gap if gap else None,
        gap_low=gap.low if gap else None,
        gap_high=gap.high if gap else None,
        verdict=gap.verdict if gap else None,
        suppressed=cell.suppressed,
    )


async def write_segments_csv(
    database: Backend,
    wave_id: int,
    target: BinaryIO,
    *,
    level: Level = "region",
    min_cell_size: int,
    excel: bool = False,
    catalog: RegionCatalog | None = None,
    progress: Progress | None = None,
) -> int:
    """Writes the segments file into a binary stream; returns the number of rows.

    Raises `UnknownWave` before anything is written.
    """
    table = await compute_segments(
        database, wave_id, min_cell_size=min_cell_size, progress=progress
    )
    catalog = catalog or load_catalog()
    out = SegmentsCsv(target, excel=excel)
    out.write_many(segment_row(wave_id, cell, catalog) for cell in table.rows(level))
    return out.rows


def situation_row(
    found: WaveSituations, line: SituationLine, catalog: RegionCatalog
) -> SituationRow:
    """A situation's measure in one area as a row; a suppressed one carries no figures."""
    cell, figure = line.cell, line.cell.figure
    return SituationRow(
        wave_id=found.wave_id,
        against_wave_id=found.against_wave_id,
        **area_labels(catalog, cell.area),
        situation=cell.measure.situation,
        measure=cell.measure.id,
        unit=cell.measure.unit,
        respondents=None if cell.suppressed else cell.respondents,
        value=figure.value if figure else None,
        low=figure.low if figure else None,
        high=figure.high if figure else None,
        q1=figure.q1 if figure else None,
        q3=figure.q3 if figure else None,
        value_before=line.before,
        change=line.change,
        suppressed=cell.suppressed,
    )


async def write_situations_csv(
    database: Backend,
    wave_id: int,
    target: BinaryIO,
    *,
    level: Level = "region",
    min_cell_size: int,
    against: int | None = None,
    partial: bool = False,
    excel: bool = False,
    catalog: RegionCatalog | None = None,
    progress: Progress | None = None,
) -> int:
    """Writes the situations file into a binary stream; returns the number of rows.

    Raises `UnknownWave` or `SituationsError` before anything is written.
    """
    found = await compute_situations(
        database,
        wave_id,
        min_cell_size=min_cell_size,
        against=against,
        partial=partial,
        progress=progress,
    )
    catalog = catalog or load_catalog()
    out = SituationsCsv(target, excel=excel)
    out.write_many(situation_row(found, line, catalog) for line in found.lines(level))
    return out.rows


async def write_answers_csv(
    database: Backend,
    wave_id: int,
    target: BinaryIO,
    *,
    key: bytes,
    excel: bool = False,
    progress: Progress | None = None,
    regions: frozenset[str] | None = None,
) -> int:
    """Streams every answer of the wave into a binary stream; returns the number of rows.

    `key` is the pseudonym key (`storage.pseudonym_key.pseudonym_key`). Raises `UnknownWave`
    before writing anything. `regions` keeps only answers given in those regions.
    """
    await wave_survey(database, wave_id)
    pseudonym = Pseudonymizer(key)
    async with database.readers(1) as (connection,):
        out = AnswersCsv(target, excel=excel)
        async for chunk in stream_answer_rows(connection, wave_id, pseudonym, progress):
            if regions is not None:
                chunk = [row for row in chunk if row.region_code in regions]
            out.write_many(chunk)
    return out.rows


@dataclass(frozen=True, slots=True)
class WaveReport:
    """A wave's ratings computed once, for both figures of `/report` and for `export map`.

    With `regions`, only those regions are shown (a regional member's `/report`): cells of
    the full computation, so each region's figure is what the full report shows for it.
    """

    wave: Wave
    survey: Survey
    ratings: Ratings
    catalog: RegionCatalog
    regions: frozenset[str] | None = None

    def areas(self) -> list[Area]:
        """The regions the report shows, sorted by code."""
        areas = self.ratings.areas("region")
        return [area for area in areas if self.regions is None or area[0] in self.regions]

    @property
    def respondents(self) -> int:
        """Respondents with a scored answer: the whole wave's overall cell, or the sum of the
        shown regions' ones."""
        if self.regions is not None:
            return sum(self.ratings.cell(area, "all", OVERALL).respondents for area in self.areas())
        cell = self.ratings.cells.get((WAVE, "all", OVERALL))
        return cell.respondents if cell else 0

    @property
    def has_figures(self) -> bool:
        """Whether any region publishes an overall index: if none does, a figure is empty."""
        return any(self._published(area, track) for area in self.areas() for track in _TRACKS)

    def shown(self, area: Area, track: CellTrack) -> Shown | None:
        """An area's published overall index and its respondents; None when withheld."""
        # matplotlib comes with the chart's module and costs half a second: figures only.
        from surveys.chart import Shown

        cell = self._published(area, track)
        return Shown(cell.estimate, cell.respondents) if cell and cell.estimate else None

    def _published(self, area: Area, track: CellTrack) -> Cell | None:
        cell = self.ratings.cell(area, track, OVERALL)
        return None if cell.suppressed or cell.estimate is None else cell


_TRACKS: tuple[CellTrack, ...] = ("all", "youth")


async def wave_report(
    database: Backend,
    wave_id: int,
    *,
    min_cell_size: int,
    population: PopulationTable | None = None,
    catalog: RegionCatalog | None = None,
    regions: frozenset[str] | None = None,
) -> WaveReport:
    """The wave and its ratings, for `overall_chart_png` and `region_map`, showing `regions`
    (None: all). Raises `UnknownWave`."""
    wave, _ = await wave_survey(database, wave_id)
    survey, ratings = await compute_ratings(
        database, wave_id, min_cell_size=min_cell_size, population=population
    )
    return WaveReport(wave, survey, ratings, catalog or load_catalog(), regions)


async def overall_chart_png(report: WaveReport, *, language: str = "ru") -> bytes:
    """The regions' overall index with 95% intervals, everyone and youth, as PNG bytes."""
    from surveys.chart import CHART_LABELS, ChartBar, overall_chart

    bars = []
    for area in report.areas():
        region = report.catalog.region(area[0])
        bars.append(
            ChartBar(
                label=region.name.get(language) if region else area[0],
                all=report.shown(area, "all"),
                youth=report.shown(area, "youth"),
            )
        )
    labels = CHART_LABELS.get(language, CHART_LABELS["ru"])
    # Drawing takes a noticeable fraction of a second; keep it off the bot's event loop.
    return await asyncio.to_thread(overall_chart, bars, labels)


async def region_map(
    report: WaveReport,
    *,
    language: str = "ru",
    zone: tzinfo = UTC,
    image_format: ImageFormat = "png",
) -> bytes:
    """The regions' overall index on the tile map, dated in `zone`, as PNG or SVG bytes.

    Raises `MissingTileLayout` for a catalog with no tile layout beside it.
    """
    from surveys.chart import CHART_LABELS
    from surveys.tile_map import tile_map

    tiles = report.catalog.tile_layout()
    scores = {
        area[0]: shown.estimate.score if (shown := report.shown(area, "all")) else None
        for area in report.areas()
    }
    heading = _map_heading(report, language, zone)
    labels = CHART_LABELS.get(language, CHART_LABELS["ru"])
    return await asyncio.to_thread(tile_map, tiles, scores, heading, labels, image_format)


async def region_change_map(
    report: WaveReport,
    change: WaveChange,
    *,
    language: str = "ru",
    zone: tzinfo = UTC,
    image_format: ImageFormat = "png",
) -> bytes:
    """The regions' published change of the overall index on the tile map: everyone's
    overall row of each region in the change file, with its verdict's arrow. A
    region without a shown, comparable change, or without a row, is hatched as "no
    comparable figures": the map says why there is no colour, not only that there is none.

    Raises `MissingTileLayout` for a catalog with no tile layout beside it.
    """
    from surveys.chart import CHART_LABELS
    from surveys.tile_map import change_scale, tile_map

    tiles = report.catalog.tile_layout()
    rows = (change_row(change, cell, report.catalog) for cell in change.cells("region"))
    shown = [
        row
        for row in rows
        if row.track == "all" and row.topic == OVERALL and row.comparable and row.change is not None
    ]
    changes: dict[str, float | None] = dict.fromkeys(tiles)
    changes.update({row.region_code: row.change for row in shown})
    verdicts = {row.region_code: row.verdict for row in shown if row.verdict}
    labels = CHART_LABELS.get(language, CHART_LABELS["ru"])
    return await asyncio.to_thread(
        partial(
            tile_map,
            tiles,
            changes,
            _map_heading(report, language, zone),
            labels,
            image_format,
            scale=change_scale(labels, change.against_wave_id),
            verdicts=verdicts,
        )
    )


def _map_heading(report: WaveReport, language: str, zone: tzinfo) -> MapHeading:
    from surveys.tile_map import MapHeading

    return MapHeading(
        survey=report.survey.title.get(language),
        wave_id=report.wave.id,
        start=report.wave.starts_at.astimezone(zone).date(),
        end=report.wave.ends_at.astimezone(zone).date(),
    )
