"""A wave's results as files: the ratings and answers CSV, and the chart of regions.

Made from the scans in `storage.results`; what the CLI's `export` and the chat's exports
and `/report` call.
"""

from __future__ import annotations

import asyncio
from typing import BinaryIO

from storage.database import Database
from storage.results import (
    Progress,
    compute_ratings,
    readers,
    stream_answer_rows,
    wave_survey,
)
from surveys.aggregate import OVERALL, Cell, Level
from surveys.export import AnswersCsv, RatingRow, RatingsCsv
from surveys.pseudonym import Pseudonymizer
from surveys.regions import RegionCatalog, load_catalog
from surveys.weighting import PopulationTable


def rating_row(wave_id: int, cell: Cell, catalog: RegionCatalog) -> RatingRow:
    """A cell as a ratings-file row; suppressed rows carry neither score nor count, and a
    withheld share goes with its interval."""
    region = catalog.region(cell.region_code)
    municipality = (
        catalog.municipality(cell.region_code, cell.municipality_code)
        if cell.municipality_code
        else None
    )
    shown = cell.estimate if not cell.suppressed else None
    share = shown if not cell.share_withheld else None
    return RatingRow(
        wave_id=wave_id,
        region_code=cell.region_code,
        region_name=region.name.ru if region else "",
        municipality_code=cell.municipality_code,
        municipality_name=municipality.name.ru if municipality else "",
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


async def overall_chart_png(
    database: Database,
    wave_id: int,
    *,
    min_cell_size: int,
    population: PopulationTable | None = None,
    catalog: RegionCatalog | None = None,
    language: str = "ru",
) -> bytes:
    """The regions' overall index with 95% intervals, everyone and youth, as PNG bytes."""
    # matplotlib costs half a second and 40 MB to import; only the chart needs it.
    from surveys.chart import CHART_LABELS, ChartBar, overall_chart

    _, ratings = await compute_ratings(
        database, wave_id, min_cell_size=min_cell_size, population=population
    )
    catalog = catalog or load_catalog()
    bars = []
    for area in ratings.areas("region"):
        region = catalog.region(area[0])
        bars.append(
            ChartBar(
                label=region.name.get(language) if region else area[0],
                all=ratings.cell(area, "all", OVERALL).estimate,
                youth=ratings.cell(area, "youth", OVERALL).estimate,
            )
        )
    labels = CHART_LABELS.get(language, CHART_LABELS["ru"])
    # Drawing takes a noticeable fraction of a second; keep it off the bot's event loop.
    return await asyncio.to_thread(overall_chart, bars, labels)
