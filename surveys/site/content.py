"""What a site is made from: a wave's open-data files as rows, and what the pages add to
them (names, actions, the map). Gathered by `storage.site`, rendered by `render`."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from surveys.actions import Action
from surveys.export import FiguresCsv
from surveys.model import Survey
from surveys.regions import RegionCatalog

#: The files a site may publish, in the order its data section lists them. Each is
#: `{kind}-{level}.csv`; change and situations appear only where the wave has them.
KINDS: tuple[str, ...] = ("ratings", "change", "segments", "situations")
LEVELS: tuple[str, ...] = ("region", "municipality")


@dataclass(frozen=True, slots=True)
class DataFile:
    """One open-data file: its rows, kept so that the pages show the very cells the file
    holds, and the writer of `civicpulse export` that turns them into CSV."""

    name: str
    writer: type[FiguresCsv]
    rows: Sequence[Any]
    #: The CSV already written from `rows` by the same writer (in another process, so that
    #: it goes on beside the maps): `csv_bytes` returns it rather than writing it again.
    written: bytes | None = None
    #: `by_region`, made on the first call: every region's page asks, in both languages.
    _by_region: dict[str, list[int]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def csv_bytes(self) -> bytes:
        """The machine-feed CSV, byte for byte what `civicpulse export` writes."""
        if self.written is not None:
            return self.written
        buffer = io.BytesIO()
        self.writer(buffer).write_many(self.rows)
        return buffer.getvalue()

    def by_region(self) -> Mapping[str, Sequence[int]]:
        """Row numbers by region code, in file order. The rows are never changed once
        gathered, so they are indexed once."""
        found = self._by_region
        if not found:
            for index, row in enumerate(self.rows):
                found.setdefault(row.region_code, []).append(index)
        return found


@dataclass(frozen=True, slots=True)
class SiteContent:
    wave_id: int
    start: date
    end: date
    survey: Survey
    catalog: RegionCatalog
    #: By name without `.csv` (`ratings-region`, `change-municipality`, …).
    files: Mapping[str, DataFile]
    #: The earlier wave the change files compare against; None without them.
    against_wave_id: int | None = None
    actions: Sequence[Action] = ()
    #: The tile map as SVG by language; empty for a catalog without a tile layout.
    maps: Mapping[str, bytes] = field(default_factory=dict)
    #: The same map coloured by the change since `against_wave_id`; empty without one.
    change_maps: Mapping[str, bytes] = field(default_factory=dict)

    def file(self, kind: str, level: str = "region") -> DataFile | None:
        return self.files.get(f"{kind}-{level}")
