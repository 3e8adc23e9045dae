"""A wave's results as files: the ratings, change and answers CSV, the chart and the map.

Made from the scans in `storage.results`; what the CLI's `export` and the chat's exports
and `/report` call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import TYPE_CHECKING, BinaryIO

from storage.change import WaveChange, compute_change
from storage.database import Database
from storage.repositories.waves import Wave
from storage.results import (
    Progress,
    compute_ratings,
    readers,
    stream_answer_rows,
    wave_survey,
)
from surveys.aggregate import OVERALL, WAVE, Area, Cell, CellTrack, Level, Ratings
from surveys.change import ChangeCell
from surveys.export import AnswersCsv, ChangeCsv, ChangeRow, RatingRow, RatingsCsv
from surveys.model import Survey
from surveys.pseudonym import Pseudonymizer
from surveys.regions import RegionCatalog, load_catalog
from surveys.weighting import PopulationTable

if TYPE_CHECKING:
    from surveys.chart import ImageFormat, Shown


def cell_labels(catalog: RegionCatalog, area: Area, track: str, topic: str) -> dict[str, str]:
    """The columns that say which cell a row is, names in Russian from the catalog (empty
    where it has none), shared by the ratings and the change file."""
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
        "track": track,
        "topic": topic,
    }


def rating_row(wave_id: int, cell: Cell, catalog: RegionCatalog) -> RatingRow:
    """A cell as a ratings-file row; suppressed rows carry neither score nor count, and a
    withheld share goes with its interval."""
    shown = cell.estimate if not cell.suppressed else None
    share = shown if not cell.share_withheld else None
    return RatingRow(
        wave_id=wave_id,
        **cell_labels(catalog, cell.area, cell.track, cell.topic),
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
    database: Database,
    wave_id: int,
    *,
    level: Level = "region",
    min_cell_size: int,
    population: PopulationTable | None = None,
    catalog: RegionCatalog | None = None,
    progress: Progress | None = None,
) -> list[RatingRow]:
    """The ratings file's rows, in its order. Raises `UnknownWave`, `PopulationError`."""
    _, ratings = await compute_ratings(
        database,
        wave_id,
        min_cell_size=min_cell_size,
        population=population,
        progress=progress,
    )
    catalog = catalog or load_catalog()
    return [rating_row(wave_id, cell, catalog) for cell in ratings.rows(level)]


async def write_ratings_csv(
    database: Database,
    wave_id: int,
    target: BinaryIO,
    *,
    level: Level = "region",
    min_cell_size: int,
    population: PopulationTable | None = None,
    excel: bool = False,
    catalog: RegionCatalog | None = None,
    progress: Progress | None = None,
) -> int:
    """Writes the ratings file into a binary stream; returns the number of rows.

    Nothing is written before the figures are complete, so an unknown wave or a population
    file that misses a region leaves `target` untouched.
    """
    rows = await ratings_rows(
        database,
        wave_id,
        level=level,
        min_cell_size=min_cell_size,
        population=population,
        catalog=catalog,
        progress=progress,
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
        **cell_labels(catalog, cell.area, cell.track, cell.topic),
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
    database: Database,
    wave_id: int,
    against_wave_id: int,
    target: BinaryIO,
    *,
    level: Level = "region",
    min_cell_size: int,
    partial: bool = False,
    excel: bool = False,
    catalog: RegionCatalog | None = None,
) -> int:
    """Writes the change file into a binary stream; returns the number of rows.

    Raises `UnknownWave` or `ChangeError` before anything is written.
    """
    change = await compute_change(
        database, wave_id, against_wave_id, min_cell_size=min_cell_size, partial=partial
    )
    catalog = catalog or load_catalog()
    out = ChangeCsv(target, excel=excel)
    out.write_many(change_row(change, cell, catalog) for cell in change.cells(level))
    return out.rows


async def write_answers_csv(
    database: Database,
    wave_id: int,
    target: BinaryIO,
    *,
    key: bytes,
    excel: bool = False,
    progress: Progress | None = None,
) -> int:
    """Streams every answer of the wave into a binary stream; returns the number of rows.

    `key` is the pseudonym key (`storage.pseudonym_key.pseudonym_key`). Raises `UnknownWave`
    before writing anything.
    """
    await wave_survey(database, wave_id)
    pseudonym = Pseudonymizer(key)
    async with readers(database, 1) as (connection,):
        out = AnswersCsv(target, excel=excel)
        async for chunk in stream_answer_rows(connection, wave_id, pseudonym, progress):
            out.write_many(chunk)
    return out.rows


@dataclass(frozen=True, slots=True)
class WaveReport:
    """A wave's ratings computed once, for both figures of `/report` and for `export map`."""

    wave: Wave
    survey: Survey
    ratings: Ratings
    catalog: RegionCatalog

    @property
    def respondents(self) -> int:
        """Respondents with a scored answer: the whole wave's overall cell."""
        cell = self.ratings.cells.get((WAVE, "all", OVERALL))
        return cell.respondents if cell else 0

    @property
    def has_figures(self) -> bool:
        """Whether any region publishes an overall index: if none does, a figure is empty."""
        areas = self.ratings.areas("region")
        return any(self._published(area, track) for area in areas for track in _TRACKS)

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
    database: Database,
    wave_id: int,
    *,
    min_cell_size: int,
    population: PopulationTable | None = None,
    catalog: RegionCatalog | None = None,
) -> WaveReport:
    """The wave and its ratings, for `overall_chart_png` and `region_map`. Raises `UnknownWave`."""
    wave, _ = await wave_survey(database, wave_id)
    survey, ratings = await compute_ratings(
        database, wave_id, min_cell_size=min_cell_size, population=population
    )
    return WaveReport(wave, survey, ratings, catalog or load_catalog())


async def overall_chart_png(report: WaveReport, *, language: str = "ru") -> bytes:
    """The regions' overall index with 95% intervals, everyone and youth, as PNG bytes."""
    from surveys.chart import CHART_LABELS, ChartBar, overall_chart

    bars = []
    for area in report.ratings.areas("region"):
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
    from surveys.tile_map import MapHeading, tile_map

    tiles = report.catalog.tile_layout()
    scores = {
        area[0]: shown.estimate.score if (shown := report.shown(area, "all")) else None
        for area in report.ratings.areas("region")
    }
    heading = MapHeading(
        survey=report.survey.title.get(language),
        wave_id=report.wave.id,
        start=report.wave.starts_at.astimezone(zone).date(),
        end=report.wave.ends_at.astimezone(zone).date(),
    )
    labels = CHART_LABELS.get(language, CHART_LABELS["ru"])
    return await asyncio.to_thread(tile_map, tiles, scores, heading, labels, image_format)
