"""Weighting to the population: each region raked to its age bands and municipalities.

People who answer a Telegram survey are younger and more urban than the population they
live among, so a plain mean over respondents speaks mostly for the young of the regional
capital. With a population file, each region's respondents are raked (`surveys.raking`) to
the region's residents by age band and, where the file lists them, by municipality: one
weight per region × municipality × age band stratum, which every cell (any area, track and
topic) then uses. Kish's effective sample size tells how much precision the reweighting
cost, so intervals widen honestly and a cell worth fewer respondents than the minimum cell
size is suppressed like a small one. Why our own raking and not weightipy: see
`surveys.raking` (a pandas frame per respondent, for a few thousand group counts).

Population file (`--weights FILE`): CSV in UTF-8 (a BOM is allowed, so a file saved from
Excel works), `,` or `;` as delimiter, a header row, then one row per region and age band:

    region_code,age_band,population
    49,14-17,27810
    49,18-24,41230
    ...

or, to weight by municipality too, four columns, each row giving either an age band or a
municipality and leaving the other empty:

    region_code,municipality_code,age_band,population
    49,,14-17,27810
    49,49701000,,186400
    ...

- `region_code` is the region's OKATO/OKTMO code as text, with its leading zero (`05`);
- `municipality_code` is the municipality's 8-digit OKTMO code, which starts with the
  region's;
- `age_band` is one of the bands a respondent chooses from (`14-17`, `18-24`, `25-30`,
  `31-35`, `36-44`, `45-54`, `55-64`, `65+`);
- `population` is a positive whole number of residents (spaces as thousands separators
  are tolerated). Rosstat's annual "population by sex and age" tables give these counts.
  Municipality rows count the same residents as the age bands (the ages the listed bands
  cover), since both margins split the same regional total.

Every region × age band that has respondents in the exported wave must be listed; a missing
one is an error rather than a silent fallback to unweighted figures. Municipality rows are
optional, region by region, and need not list every municipality. Problems in the file name
their lines; problems between the file and the wave name the region.

The margins of a region, before raking:
- age bands: a band with fewer than `MIN_STRATUM` respondents is merged with its smaller
  neighbouring band (populations summed), thinnest first, until no group is that thin or
  one is left;
- municipalities: a listed municipality with `MIN_STRATUM` respondents or more is a category
  of its own; everyone else who named a municipality (unlisted ones and thin listed ones)
  falls into one pooled "rest of region", whose population is the region's total (its age
  bands) minus the municipalities kept; while that pool has respondents but fewer than
  `MIN_STRATUM`, the smallest kept municipality joins it. A respondent who named no
  municipality could live in any of them, so is outside this margin: their weight follows
  their age band, and the named respondents alone match the municipalities' shares.
Each region's weights are then scaled so its respondents together stand for its population,
which makes the whole wave's cells weigh regions by their size as well.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from surveys.model import AGE_BAND_IDS
from surveys.raking import Margin, RakingError, rake

#: A stratum is a region, a municipality ("" when none was named) and an age band: the
#: finest split a weight is given for.
Stratum = tuple[str, str, str]
#: Keys of the population file's rows: (region, age band) and (region, municipality).
RegionBand = tuple[str, str]
RegionMunicipality = tuple[str, str]
H = TypeVar("H", bound=Hashable)

AGE_COLUMNS = ("region_code", "age_band", "population")
MUNICIPALITY_COLUMNS = ("region_code", "municipality_code", "age_band", "population")
#: A margin category with fewer respondents is merged before raking: a weight resting on
#: one to four people would make each of them speak for thousands.
MIN_STRATUM = 5
#: The pooled category of a region's residents outside the municipalities kept on their own.
REST_OF_REGION = "rest of region"
_REGION_CODE = re.compile(r"\d{2,3}")
_MUNICIPALITY_CODE = re.compile(r"\d{8}")
_THOUSANDS = re.compile(r"[ \u00a0\u202f]")


class PopulationError(ValueError):
    """A population file that cannot be used; the message says where and why."""


@dataclass(frozen=True, slots=True)
class PopulationTable:
    """Residents per region × age band and, optionally, per region × municipality."""

    counts: Mapping[RegionBand, int]
    source: str = "population file"
    municipalities: Mapping[RegionMunicipality, int] = field(default_factory=dict)

    def require(self, strata: Iterable[Stratum]) -> None:
        """Refuse to weight a sample whose age bands the file does not cover."""
        missing = sorted({(region, band) for region, _, band in strata} - set(self.counts))
        if missing:
            listed = ", ".join(f"{region}/{band}" for region, band in missing[:20])
            more = f" and {len(missing) - 20} more" if len(missing) > 20 else ""
            raise PopulationError(
                f"{self.source}: no population for region/age band {listed}{more}; "
                "every region and age band with respondents must be listed"
            )

    def weights(self, counts: Mapping[Stratum, int]) -> dict[Stratum, float]:
        """The residents one respondent of each stratum stands for, raked region by region.

        `counts` are the wave's respondents per stratum. Raises `PopulationError` for a band
        the file lacks or margins the region's respondents cannot meet together.
        """
        present = {stratum: n for stratum, n in counts.items() if n > 0}
        self.require(present)
        regions: defaultdict[str, dict[Stratum, int]] = defaultdict(dict)
        for stratum, n in present.items():
            regions[stratum[0]][stratum] = n
        weights: dict[Stratum, float] = {}
        for region, strata in regions.items():
            scale = self._total(region) / sum(strata.values())
            weights.update({h: w * scale for h, w in self._rake(region, strata).items()})
        return weights

    def _rake(self, region: str, strata: Mapping[Stratum, int]) -> dict[Stratum, float]:
        margins = [self._age_margin(region, strata)]
        listed = {m: n for (r, m), n in self.municipalities.items() if r == region}
        if listed:
            margins.append(self._municipality_margin(region, strata, listed))
        try:
            return rake(strata, margins)
        except RakingError as error:
            raise PopulationError(
                f"{self.source}: region {region}: its respondents cannot match its age bands "
                f"and its municipalities at once ({error}), as when a municipality's "
                "respondents are nearly all of one age; leave out that municipality's row"
            ) from error

    def _total(self, region: str) -> int:
        return sum(n for (r, _), n in self.counts.items() if r == region)

    def _age_margin(self, region: str, strata: Mapping[Stratum, int]) -> Margin[Stratum]:
        sizes: Counter[str] = Counter()
        for (_, _, band), n in strata.items():
            sizes[band] += n
        bands = [band for band in AGE_BAND_IDS if (region, band) in self.counts]
        group_of = {band: group for group in collapse_bands(bands, sizes) for band in group}
        populations: Counter[Hashable] = Counter()
        for band in bands:
            populations[group_of[band]] += self.counts[(region, band)]
        return Margin({h: group_of[h[2]] for h in strata}, populations)

    def _municipality_margin(
        self, region: str, strata: Mapping[Stratum, int], listed: Mapping[str, int]
    ) -> Margin[Stratum]:
        named: Counter[str] = Counter()
        for (_, municipality, _), n in strata.items():
            if municipality:
                named[municipality] += n
        kept = kept_municipalities(listed, named)
        rest = self._total(region) - sum(listed[m] for m in kept)
        unlisted = sorted(m for m in named if m not in listed)
        if rest == 0 and unlisted:
            raise PopulationError(
                f"{self.source}: region {region}: respondents named municipalities the file "
                f"does not list ({', '.join(unlisted[:20])}), but its municipalities already "
                "add up to the whole of its age bands' population"
            )
        categories = {h: h[1] if h[1] in kept else REST_OF_REGION for h in strata if h[1]}
        populations: dict[Hashable, int] = {m: listed[m] for m in kept}
        populations[REST_OF_REGION] = rest
        return Margin(categories, populations)


def collapse_bands(bands: Sequence[str], sizes: Mapping[str, int]) -> list[tuple[str, ...]]:
    """Adjacent bands merged until each group has `MIN_STRATUM` respondents or one is left.

    The thinnest group goes first (the younger of equals) and joins the smaller of its
    neighbours (the younger of equals), so merged groups stay as even as the sample allows.
    """
    groups = [(band,) for band in bands]

    def size(index: int) -> int:
        return sum(sizes.get(band, 0) for band in groups[index])

    while len(groups) > 1:
        thin = [i for i in range(len(groups)) if size(i) < MIN_STRATUM]
        if not thin:
            break
        first = min(thin, key=lambda i: (size(i), i))
        other = min((i for i in (first - 1, first + 1) if 0 <= i < len(groups)), key=size)
        low, high = sorted((first, other))
        groups[low : high + 1] = [groups[low] + groups[high]]
    return groups


def kept_municipalities(listed: Mapping[str, int], named: Mapping[str, int]) -> set[str]:
    """Listed municipalities weighted on their own: those with `MIN_STRATUM` respondents,
    less the smallest of them while the pooled rest has respondents but fewer than that."""
    kept = {m for m in listed if named.get(m, 0) >= MIN_STRATUM}
    rest = sum(n for m, n in named.items() if m not in kept)
    while kept and 0 < rest < MIN_STRATUM:
        smallest = min(kept, key=lambda m: (named[m], m))
        kept.remove(smallest)
        rest += named[smallest]
    return kept


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
    columns = tuple(
        name.strip().lower() for name in next(csv.reader([header], delimiter=delimiter))
    )
    if columns not in (AGE_COLUMNS, MUNICIPALITY_COLUMNS):
        raise PopulationError(
            f"{source}: line 1: the header must be {','.join(AGE_COLUMNS)} or "
            f"{','.join(MUNICIPALITY_COLUMNS)}, found {','.join(columns) or 'nothing'}"
        )
    bands: dict[RegionBand, int] = {}
    municipalities: dict[RegionMunicipality, int] = {}
    municipality_lines: defaultdict[str, list[int]] = defaultdict(list)
    problems: list[str] = []
    for number, row in enumerate(csv.reader(lines, delimiter=delimiter), start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            region, municipality, band, population = _parse_row(row, columns)
        except ValueError as error:
            problems.append(f"line {number}: {error}")
            continue
        if municipality:
            table, key, what = municipalities, (region, municipality), "municipality"
            municipality_lines[region].append(number)
        else:
            table, key, what = bands, (region, band), "band"
        if key in table:
            problems.append(f"line {number}: region {region}, {what} {key[1]} repeated")
        table[key] = population
    problems.extend(_uncovered_municipalities(bands, municipalities, municipality_lines))
    if problems:
        raise PopulationError(f"{source}: " + "; ".join(problems))
    if not bands:
        raise PopulationError(f"{source}: the population file has no age band rows")
    return PopulationTable(bands, source, municipalities)


def _parse_row(row: list[str], columns: tuple[str, ...]) -> tuple[str, str, str, int]:
    """Region, municipality ("" on an age band's row), age band ("" on a municipality's)
    and population of one row."""
    if len(row) != len(columns):
        raise ValueError(f"expected {len(columns)} columns, found {len(row)}")
    cells = dict(zip(columns, (cell.strip() for cell in row), strict=True))
    region, band, population = cells["region_code"], cells["age_band"], cells["population"]
    municipality = cells.get("municipality_code", "")
    if not _REGION_CODE.fullmatch(region):
        raise ValueError(f"region code {region!r} must be 2 or 3 digits{_zero_hint(region)}")
    if municipality and band:
        raise ValueError("a row gives an age band or a municipality, not both")
    if municipality:
        _check_municipality(region, municipality)
    elif band not in AGE_BAND_IDS:
        alternative = " (or give a municipality code)" if len(columns) > len(AGE_COLUMNS) else ""
        raise ValueError(f"age band {band!r} is not one of {', '.join(AGE_BAND_IDS)}{alternative}")
    digits = _THOUSANDS.sub("", population)
    if not digits.isdigit() or int(digits) <= 0:
        raise ValueError(f"population {population!r} must be a positive whole number")
    return region, municipality, band, int(digits)


def _check_municipality(region: str, municipality: str) -> None:
    if not _MUNICIPALITY_CODE.fullmatch(municipality):
        hint = _zero_hint(municipality)
        raise ValueError(f"municipality code {municipality!r} must be 8 digits (OKTMO){hint}")
    if not municipality.startswith(region):
        raise ValueError(f"municipality {municipality} is not in region {region}")


def _zero_hint(code: str) -> str:
    return " (a leading zero lost in a spreadsheet? write 05)" if code.isdigit() else ""


def _uncovered_municipalities(
    bands: Mapping[RegionBand, int],
    municipalities: Mapping[RegionMunicipality, int],
    municipality_lines: Mapping[str, list[int]],
) -> list[str]:
    """Regions whose municipalities the age bands cannot cover: both margins split one
    regional total, the age bands' sum, so the municipalities must fit within it."""
    totals: Counter[str] = Counter()
    for (region, _), population in bands.items():
        totals[region] += population
    listed: Counter[str] = Counter()
    for (region, _), population in municipalities.items():
        listed[region] += population
    problems = []
    for region, numbers in municipality_lines.items():
        where = ("line " if len(numbers) == 1 else "lines ") + ", ".join(map(str, numbers))
        if not totals[region]:
            problems.append(
                f"{where}: region {region} has municipalities but no age bands; "
                "list its age bands too"
            )
        elif listed[region] > totals[region]:
            problems.append(
                f"{where}: the municipalities of region {region} add up to {listed[region]}, "
                f"more than its age bands' {totals[region]}; count the same ages in both"
            )
    return problems


def respondent_weights(
    counts: Mapping[H, int], weights: Mapping[H, float] | None = None
) -> dict[H, float]:
    """Each respondent's share of a cell, per stratum, all shares summing to 1.

    Without weights every respondent counts 1/n, which makes every formula built on these
    shares the plain unweighted one. With them, a stratum's respondents count in proportion
    to its weight. Strata without respondents drop out.
    """
    present = {h: n for h, n in counts.items() if n > 0}
    if weights is None:
        total = sum(present.values())
        return {h: 1 / total for h in present}
    size = sum(weights[h] * n for h, n in present.items())
    return {h: weights[h] / size for h in present}


def kish_effective_n(weights: Mapping[H, float], counts: Mapping[H, int]) -> float:
    """Kish's effective sample size (Σw)² / Σw², with n_h respondents weighing w_h each.

    Equal weights give n back; the more unequal the weights, the fewer respondents the
    weighted mean is worth.
    """
    total = sum(counts[h] * w for h, w in weights.items())
    squares = sum(counts[h] * w * w for h, w in weights.items())
    return total * total / squares if squares else 0.0
