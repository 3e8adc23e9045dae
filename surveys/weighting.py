"""Post-stratification by age band, and the effective sample size the interval then rests on.

People who answer a Telegram survey are younger than the population they live among, so a
plain mean over respondents speaks mostly for the young. Post-stratification gives each
region × age band stratum its share of the real population instead of its share of the
sample; the Kish effective sample size then tells how much precision that reweighting cost,
so the confidence interval widens honestly instead of pretending every respondent still
counts fully.

Population file (`--weights FILE`): CSV in UTF-8 (a BOM is allowed, so a file saved from
Excel works), `,` or `;` as delimiter, a header row, then one row per region and age band:

    region_code,age_band,population
    49,14-17,27810
    49,18-24,41230
    ...

- `region_code` is the region's OKATO/OKTMO code as text, with its leading zero (`05`);
- `age_band` is one of the bands a respondent chooses from (`14-17`, `18-24`, `25-30`,
  `31-35`, `36-44`, `45-54`, `55-64`, `65+`);
- `population` is a positive whole number of residents (spaces as thousands separators
  are tolerated). Rosstat's annual "population by sex and age" tables give these counts.

Every region × age band that has respondents in the exported wave must be listed; a missing
one is an error rather than a silent fallback to unweighted figures.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from surveys.model import AGE_BAND_IDS

#: A stratum is a region and an age band: the finest split the population file gives.
Stratum = tuple[str, str]
H = TypeVar("H", bound=Hashable)

POPULATION_COLUMNS = ("region_code", "age_band", "population")
_REGION_CODE = re.compile(r"\d{2,3}")
_THOUSANDS = re.compile(r"[ \u00a0\u202f]")


class PopulationError(ValueError):
    """A population file that cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class PopulationTable:
    """Residents per region × age band, as read from a population file."""

    counts: Mapping[Stratum, int]
    source: str = "population file"

    def __getitem__(self, stratum: Stratum) -> int:
        return self.counts[stratum]

    def require(self, strata: Iterable[Stratum]) -> None:
        """Refuse to weight a sample whose strata the file does not cover."""
        missing = sorted(set(strata) - set(self.counts))
        if missing:
            listed = ", ".join(f"{region}/{band}" for region, band in missing[:20])
            more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
            raise PopulationError(
                f"{self.source}: no population for region/age band {listed}{more}; "
                "every region and age band with respondents must be listed"
            )


def load_population(path: Path) -> PopulationTable:
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return parse_population(handle, source=str(path))
    except OSError as error:
        raise PopulationError(f"{path}: cannot read the population file: {error}") from error
    except UnicodeDecodeError as error:
        raise PopulationError(f"{path}: the population file is not UTF-8 text") from error


def parse_population(lines: Iterable[str], source: str = "population file") -> PopulationTable:
    """Read the CSV described in the module docstring; every problem names its line."""
    lines = iter(lines)
    header = next(lines, "").lstrip("\ufeff")
    delimiter = ";" if header.count(";") > header.count(",") else ","
    columns = [name.strip().lower() for name in next(csv.reader([header], delimiter=delimiter))]
    if columns != list(POPULATION_COLUMNS):
        raise PopulationError(
            f"{source}: line 1: the header must be {','.join(POPULATION_COLUMNS)}, "
            f"found {','.join(columns) or 'nothing'}"
        )
    counts: dict[Stratum, int] = {}
    problems: list[str] = []
    for number, row in enumerate(csv.reader(lines, delimiter=delimiter), start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            stratum, population = _parse_row(row)
        except ValueError as error:
            problems.append(f"line {number}: {error}")
            continue
        if stratum in counts:
            problems.append(f"line {number}: region {stratum[0]}, band {stratum[1]} repeated")
        counts[stratum] = population
    if problems:
        raise PopulationError(f"{source}: " + "; ".join(problems))
    if not counts:
        raise PopulationError(f"{source}: the population file has no rows")
    return PopulationTable(counts, source)


def _parse_row(row: list[str]) -> tuple[Stratum, int]:
    if len(row) != len(POPULATION_COLUMNS):
        raise ValueError(f"expected {len(POPULATION_COLUMNS)} columns, found {len(row)}")
    region, band, population = (cell.strip() for cell in row)
    if not _REGION_CODE.fullmatch(region):
        hint = " (a leading zero lost in a spreadsheet? write 05)" if region.isdigit() else ""
        raise ValueError(f"region code {region!r} must be 2 or 3 digits{hint}")
    if band not in AGE_BAND_IDS:
        raise ValueError(f"age band {band!r} is not one of {', '.join(AGE_BAND_IDS)}")
    digits = _THOUSANDS.sub("", population)
    if not digits.isdigit() or int(digits) <= 0:
        raise ValueError(f"population {population!r} must be a positive whole number")
    return (region, band), int(digits)


def respondent_weights(
    counts: Mapping[H, int], population: Mapping[H, int] | None = None
) -> dict[H, float]:
    """The weight of one respondent in each stratum, all respondents' weights summing to 1.

    Without a population every respondent weighs 1/n, which makes every formula built on
    these weights the plain unweighted one. With it, each stratum that has respondents gets
    its share of the population of those strata, N_h / ΣN, split evenly among its n_h
    respondents. Strata without respondents drop out and the others' shares are renormalised:
    nobody can speak for a band nobody from it answered for.
    """
    present = {h: n for h, n in counts.items() if n > 0}
    if population is None:
        total = sum(present.values())
        return {h: 1 / total for h in present}
    size = sum(population[h] for h in present)
    return {h: population[h] / size / n for h, n in present.items()}


def kish_effective_n(weights: Mapping[H, float], counts: Mapping[H, int]) -> float:
    """Kish's effective sample size (Σw)² / Σw², with n_h respondents weighing w_h each.

    Equal weights give n back; the more unequal the weights, the fewer respondents the
    weighted mean is worth.
    """
    total = sum(counts[h] * w for h, w in weights.items())
    squares = sum(counts[h] * w * w for h, w in weights.items())
    return total * total / squares if squares else 0.0
