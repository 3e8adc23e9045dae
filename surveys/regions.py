"""The catalog of regions and municipalities a respondent chooses from.

Codes follow OKATO/OKTMO, the classifiers Russian statistics use, so that ratings join with
official data. The catalog is a data file the operator corrects and extends; this module
reads it, refuses one that breaks the code rule, and finds entries by name or code.

The code rule: a region's code is its OKTMO prefix, i.e. the digits every one of its
municipalities' 8-digit OKTMO codes starts with. That is the two-digit subject code for most
subjects; an autonomous okrug that lies inside another subject's block (Nenets AO in 11,
Khanty-Mansi and Yamalo-Nenets AO in 71) gets the three digits of its own block
(118, 718, 719). A municipality belongs to the region whose code is its longest prefix.

Beside a catalog file may lie the layout of the tile map (`region_tiles.yaml`): a square per
region, by code. It is read with the catalog and refused unless it fits it exactly, so that a
map never leaves a region out or draws one twice.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Self, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from surveys.text import LocalizedText

BUNDLED_CATALOG_PATH = Path(__file__).parent / "data" / "regions.yaml"
#: The tile map's layout, looked for in the folder of the catalog it belongs to.
TILES_FILE_NAME = "region_tiles.yaml"

#: A region's square on the tile map: (column from the west, row from the north).
Tile = tuple[int, int]

_REGION_CODE = re.compile(r"\d{2,3}")
_OKATO_CODE = re.compile(r"\d{2}(?:\d{3})?")
_MUNICIPALITY_CODE = re.compile(r"\d{8}")
_DISTRICT_CODE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_NOT_ALNUM = re.compile(r"[\W_]+")


class CatalogError(ValueError):
    """A catalog file that cannot be used; the message names the file and every problem."""

    summary = "the region catalog is invalid"

    def __init__(self, path: Path, problems: Sequence[str]) -> None:
        self.path = path
        self.problems = tuple(problems)
        listing = "\n".join(f"  - {problem}" for problem in self.problems)
        super().__init__(f"{path.name}: {self.summary}:\n{listing}")


class TileLayoutError(CatalogError):
    """A tile map layout that would leave a region out, draw one twice or place a stranger."""

    summary = "the tile map does not fit the region catalog beside it"


class MissingTileLayout(LookupError):
    """A catalog of the operator's own with no tile map layout in its folder."""

    def __init__(self) -> None:
        super().__init__(
            f"no tile map layout: put a {TILES_FILE_NAME} beside the region catalog "
            "(REGIONS_FILE); the bundled one shows the format"
        )


def _code_text(value: object, info: ValidationInfo) -> object:
    """Reject unquoted numbers: YAML reads 05 as the integer 5 and the leading zero is gone."""
    if isinstance(value, bool) or not isinstance(value, int):
        return value
    raise ValueError(
        f'{info.field_name} must be quoted text such as "05": unquoted, YAML reads it as the '
        f"number {value} and leading zeros are lost"
    )


def _require(pattern: re.Pattern[str], value: str, message: str) -> str:
    value = value.strip()
    if not pattern.fullmatch(value):
        raise ValueError(message.format(value=value))
    return value


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Municipality(_Entry):
    code: str
    name: LocalizedText

    @field_validator("code", mode="before")
    @classmethod
    def _quoted(cls, value: object, info: ValidationInfo) -> object:
        return _code_text(value, info)

    @field_validator("code")
    @classmethod
    def _eight_digits(cls, value: str) -> str:
        return _require(
            _MUNICIPALITY_CODE,
            value,
            "municipality code '{value}' must be exactly 8 digits (OKTMO)",
        )


class Region(_Entry):
    code: str
    name: LocalizedText
    federal_district: str
    #: The OKATO code where it differs from `code` (the nested autonomous okrugs), so that
    #: analysts can join with Rosstat tables, which use OKATO.
    okato: str | None = None
    municipalities: tuple[Municipality, ...] = ()

    @field_validator("code", "okato", mode="before")
    @classmethod
    def _quoted(cls, value: object, info: ValidationInfo) -> object:
        return _code_text(value, info)

    @field_validator("code")
    @classmethod
    def _oktmo_prefix(cls, value: str) -> str:
        return _require(
            _REGION_CODE,
            value,
            "region code '{value}' must be 2 digits (the OKATO/OKTMO subject code), or 3 for an "
            "autonomous okrug inside another subject",
        )

    @field_validator("okato")
    @classmethod
    def _okato_digits(cls, value: str | None) -> str | None:
        if value is None:
            return None
        return _require(_OKATO_CODE, value, "OKATO code '{value}' must be 2 or 5 digits")

    @property
    def okato_code(self) -> str:
        return self.okato or self.code

    def municipality(self, code: str) -> Municipality | None:
        code = code.strip()
        return next((m for m in self.municipalities if m.code == code), None)


class FederalDistrict(_Entry):
    code: str
    name: LocalizedText
    regions: tuple[Region, ...]

    @model_validator(mode="before")
    @classmethod
    def _regions_inherit_district(cls, data: Any) -> Any:
        """Regions sit under their district in the file, so they need not repeat its code."""
        if not isinstance(data, Mapping) or not isinstance(data.get("regions"), list):
            return data
        district = data.get("code")
        regions = [
            {"federal_district": district, **region} if isinstance(region, Mapping) else region
            for region in data["regions"]
        ]
        return {**data, "regions": regions}

    @field_validator("code")
    @classmethod
    def _slug(cls, value: str) -> str:
        return _require(
            _DISTRICT_CODE,
            value,
            "federal district code '{value}' must be a short slug: lowercase latin letters, "
            "digits and underscores, starting with a letter",
        )

    @model_validator(mode="after")
    def _regions_agree(self) -> Self:
        for region in self.regions:
            if region.federal_district != self.code:
                raise ValueError(
                    f"region {region.code} ({region.name.ru}) says federal_district "
                    f"'{region.federal_district}' but is listed under '{self.code}'"
                )
        return self


class RegionCatalog(_Entry):
    classifier: str
    federal_districts: tuple[FederalDistrict, ...]

    _regions: dict[str, Region] = PrivateAttr(default_factory=dict)
    _districts: dict[str, FederalDistrict] = PrivateAttr(default_factory=dict)
    _tiles: dict[str, Tile] | None = PrivateAttr(default=None)

    @field_validator("classifier")
    @classmethod
    def _edition_stated(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("state which classifier edition the codes follow")
        return value.strip()

    @model_validator(mode="after")
    def _codes_consistent(self) -> Self:
        problems = [
            *_duplicates("federal district code", self._all_districts()),
            *_duplicates("region code", self._all_regions()),
            *_duplicates("municipality code", self._all_municipalities()),
            *self._nesting_problems(),
            *self._placement_problems(),
        ]
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._districts = {district.code: district for district in self.federal_districts}
        self._regions = {
            region.code: region
            for district in self.federal_districts
            for region in district.regions
        }

    def regions(self) -> list[Region]:
        return list(self._regions.values())

    def region(self, code: str) -> Region | None:
        return self._regions.get(code.strip())

    def district(self, code: str) -> FederalDistrict | None:
        return self._districts.get(code.strip())

    def municipality(self, region_code: str, municipality_code: str) -> Municipality | None:
        region = self.region(region_code)
        return region.municipality(municipality_code) if region else None

    def tile_layout(self) -> Mapping[str, Tile]:
        """Each region's square on the tile map, checked to cover the catalog exactly.

        Raises `MissingTileLayout` when no layout lay beside the catalog file.
        """
        if self._tiles is None:
            raise MissingTileLayout()
        return self._tiles

    def region_for_municipality(self, municipality_code: str) -> Region | None:
        """The region a municipality code falls in by the longest-prefix rule."""
        owners = [r for r in self.regions() if municipality_code.startswith(r.code)]
        return max(owners, key=lambda region: len(region.code), default=None)

    def search_regions(self, query: str, limit: int = 10) -> list[Region]:
        return _search(self.regions(), query, limit)

    def search_municipalities(
        self, region_code: str, query: str, limit: int = 10
    ) -> list[Municipality]:
        region = self.region(region_code)
        return _search(region.municipalities, query, limit) if region else []

    # Validation helpers. They walk the fields, not the indexes: an index keeps one entry per
    # code and would hide the duplicates they look for.

    def _all_districts(self) -> Iterator[tuple[str, str]]:
        for district in self.federal_districts:
            yield district.code, district.name.en

    def _all_regions(self) -> Iterator[tuple[str, str]]:
        for district in self.federal_districts:
            for region in district.regions:
                yield region.code, region.name.ru

    def _all_municipalities(self) -> Iterator[tuple[str, str]]:
        for district in self.federal_districts:
            for region in district.regions:
                for municipality in region.municipalities:
                    yield municipality.code, f"{municipality.name.ru} in region {region.code}"

    def _region_list(self) -> list[Region]:
        return [region for district in self.federal_districts for region in district.regions]

    def _nesting_problems(self) -> Iterator[str]:
        """A 3-digit code is only for an okrug inside a subject that is itself in the catalog."""
        two_digit = {region.code for region in self._region_list() if len(region.code) == 2}
        for region in self._region_list():
            if len(region.code) == 3 and region.code[:2] not in two_digit:
                yield (
                    f"region {region.code} ({region.name.ru}) has a 3-digit code, but no region "
                    f"{region.code[:2]} encloses it; use the 2-digit subject code"
                )

    def _placement_problems(self) -> Iterator[str]:
        regions = self._region_list()
        for region in regions:
            for municipality in region.municipalities:
                problem = _misplaced(municipality, region, regions)
                if problem:
                    yield problem


def _misplaced(municipality: Municipality, region: Region, regions: Iterable[Region]) -> str | None:
    label = f"municipality {municipality.code} ({municipality.name.ru})"
    if not municipality.code.startswith(region.code):
        return (
            f"{label} is listed under region {region.code} ({region.name.ru}) but its code does "
            f"not start with {region.code}"
        )
    closer = [
        other
        for other in regions
        if len(other.code) > len(region.code) and municipality.code.startswith(other.code)
    ]
    if closer:
        return (
            f"{label} is listed under region {region.code} ({region.name.ru}) but its code "
            f"belongs to region {closer[0].code} ({closer[0].name.ru})"
        )
    return None


def _duplicates(what: str, entries: Iterable[tuple[str, str]]) -> Iterator[str]:
    labels: dict[str, list[str]] = {}
    for code, label in entries:
        labels.setdefault(code, []).append(label)
    for code, names in labels.items():
        if len(names) > 1:
            yield f"{what} {code} is used more than once: {', '.join(names)}"


# Search -----------------------------------------------------------------------------------


def _fold(text: str) -> tuple[str, tuple[int, ...]]:
    """Text reduced to letters and digits, and where its words start in that reduced form.

    Case, ё/е, hyphens, dashes and spacing differ between how names are written and how
    people type them; dropping them lets "ханты мансийск" find "Ханты-Мансийск".
    """
    words = [w for w in _NOT_ALNUM.split(text.casefold().replace("ё", "е")) if w]
    starts, offset = [], 0
    for word in words:
        starts.append(offset)
        offset += len(word)
    return "".join(words), tuple(starts)


#: `_fold` of catalog names, kept: every search compares the query with all of them. What
#: people type is folded afresh each time and never kept, so no cache holds a person's
#: words after they erase their data.
fold_name = functools.lru_cache(maxsize=16_384)(_fold)


def _rank(entry: Region | Municipality, query: str, folded_query: str) -> int | None:
    """0 exact code, 1 a name starts with the query, 2 a word does, 3 it occurs; None: no match."""
    if entry.code == query:
        return 0
    best: int | None = None
    for name in (entry.name.ru, entry.name.en):
        folded, starts = fold_name(name)
        if folded.startswith(folded_query):
            rank = 1
        elif any(folded.startswith(folded_query, start) for start in starts):
            rank = 2
        elif folded_query in folded:
            rank = 3
        else:
            continue
        best = rank if best is None else min(best, rank)
    return best


_Entry_T = TypeVar("_Entry_T", Region, Municipality)


def _search(entries: Iterable[_Entry_T], query: str, limit: int) -> list[_Entry_T]:
    query = query.strip()
    folded_query, _ = _fold(query)
    if not folded_query or limit <= 0:
        return []
    ranked = [
        (rank, index, entry)
        for index, entry in enumerate(entries)
        if (rank := _rank(entry, query, folded_query)) is not None
    ]
    ranked.sort(key=lambda item: (item[0], item[1]))
    return [entry for _, _, entry in ranked[:limit]]


# Loading ----------------------------------------------------------------------------------


def load_catalog(path: Path | None = None) -> RegionCatalog:
    """Read and check a catalog file, the bundled one by default.

    Each file is read once per process: the bot asks for the catalog on every update, and
    an operator's edit takes effect on restart.
    """
    return _load_cached(Path(path or BUNDLED_CATALOG_PATH).resolve())


@functools.lru_cache(maxsize=8)
def _load_cached(path: Path) -> RegionCatalog:
    data = _read_yaml(path)
    try:
        catalog = RegionCatalog.model_validate(data)
    except ValidationError as error:
        raise CatalogError(path, _describe(error, data)) from error
    tiles_path = path.with_name(TILES_FILE_NAME)
    if tiles_path.exists():
        catalog._tiles = _load_tiles(tiles_path, catalog)
    return catalog


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CatalogError(path, [f"cannot read the file: {error}"]) from error
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CatalogError(path, [_yaml_problem(error)]) from error
    if not isinstance(data, dict):
        raise CatalogError(
            path, ["the file must be a mapping with 'classifier' and 'federal_districts'"]
        )
    return data


def _load_tiles(path: Path, catalog: RegionCatalog) -> dict[str, Tile]:
    """Read a tile layout and check it against the catalog it lies beside.

    Every region of the catalog needs exactly one square, no two regions may share one, and
    a code the catalog does not know is refused rather than drawn nameless.
    """
    try:
        text = path.read_text(encoding="utf-8")
        problems = _repeated_codes(text)
        data = yaml.safe_load(text)
    except (OSError, UnicodeDecodeError) as error:
        raise TileLayoutError(path, [f"cannot read the file: {error}"]) from error
    except yaml.YAMLError as error:
        raise TileLayoutError(path, [_yaml_problem(error)]) from error
    if not isinstance(data, dict):
        raise TileLayoutError(path, ['map each region code to [column, row], e.g. "49": [3, 3]'])
    tiles: dict[str, Tile] = {}
    for code, place in data.items():
        if not isinstance(code, str):
            problems.append(
                f'region code {code} must be quoted text such as "05": unquoted, YAML reads '
                "it as a number and leading zeros are lost"
            )
        elif not _is_tile(place):
            problems.append(f"region {code}: {place!r} is not [column, row], two whole numbers ≥ 0")
        else:
            tiles[code] = (place[0], place[1])
    known = {region.code for region in catalog.regions()}
    problems += [f"region {code} is not in the catalog" for code in sorted(tiles.keys() - known)]
    written = {str(code) for code in data}  # a malformed entry was reported above
    problems += [
        f"region {region.code} ({region.name.ru}) has no tile"
        for region in catalog.regions()
        if region.code not in written
    ]
    squares = ((f"[{column}, {row}]", f"region {code}") for code, (column, row) in tiles.items())
    problems += _duplicates("tile", squares)
    if problems:
        raise TileLayoutError(path, problems)
    return tiles


def _repeated_codes(text: str) -> list[str]:
    """Codes given twice: YAML silently keeps the last, and a region's other tile is lost."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    if not isinstance(root, yaml.MappingNode):
        return []
    seen: set[str] = set()
    problems = []
    for key, _ in root.value:
        if not isinstance(key, yaml.ScalarNode):
            continue
        if key.value in seen:
            problems.append(f"line {key.start_mark.line + 1}: region {key.value} has a second tile")
        seen.add(key.value)
    return problems


def _is_tile(place: object) -> bool:
    return (
        isinstance(place, list)
        and len(place) == 2
        and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in place)
    )


def _yaml_problem(error: yaml.YAMLError) -> str:
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
    return f"{where}YAML syntax error: {problem}"


def _describe(error: ValidationError, data: Any) -> list[str]:
    """Pydantic's errors with the index path replaced by the entries' codes and names."""
    problems = []
    for item in error.errors(include_url=False):
        loc, message = item["loc"], item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            loc, message = loc[:-1], f"'{loc[-1]}' is missing"
        where = _entry_path(data, loc)
        # A catalog-wide check reports all its findings at once, one per line.
        problems.extend(f"{where}: {line}" if where else line for line in message.splitlines())
    return problems


_KINDS = {
    "federal_districts": "federal district",
    "regions": "region",
    "municipalities": "municipality",
}


def _entry_path(data: Any, loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    node, kind = data, "entry"
    for step in loc:
        node = node[step] if _can_index(node, step) else None
        if isinstance(step, int):
            parts.append(_entry_label(node, kind, step))
        elif step in _KINDS:
            kind = _KINDS[step]
        else:
            parts.append(str(step))
    return " > ".join(parts)


def _can_index(node: Any, step: int | str) -> bool:
    if isinstance(node, list) and isinstance(step, int):
        return 0 <= step < len(node)
    return isinstance(node, Mapping) and step in node


def _entry_label(node: Any, kind: str, index: int) -> str:
    if not isinstance(node, Mapping) or "code" not in node:
        return f"{kind} #{index + 1}"
    name = node.get("name")
    name_ru = name.get("ru") if isinstance(name, Mapping) else None
    return f"{kind} {node['code']}" + (f" ({name_ru})" if name_ru else "")
