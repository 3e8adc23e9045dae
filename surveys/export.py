"""The two CSV files analysts receive: ratings and answers, as a feed or for Excel.

The plain form is a machine feed: UTF-8 without BOM, RFC 4180 (CRLF line ends, quotes only
where needed), `,` between fields and `.` in decimals. `excel=True` writes what
Russian-locale Excel opens by double-click: UTF-8 with BOM (without it Excel guesses
cp1251 and Cyrillic turns to mojibake), `;` between fields and `,` in decimals.

Every text cell starting with `=`, `+`, `-`, `@`, tab, CR or NUL is prefixed with `'`, so a
citizen's free-text answer such as `=HYPERLINK(...)` stays text in a spreadsheet instead of
running as a formula. Numbers are never touched: they are written as numbers, so the
columns stay summable. Codes are text and are written as text, leading zeros included.

Rows are written one at a time into a buffered stream, so a ten-million-answer export
needs no more memory than a ten-row one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

from surveys.aggregate import round_half_up

_FORMULA_TRIGGERS = frozenset("=+-@\t\r\0")


@dataclass(frozen=True, slots=True)
class CsvFormat:
    delimiter: str
    encoding: str
    decimal: str


PLAIN = CsvFormat(delimiter=",", encoding="utf-8", decimal=".")
EXCEL = CsvFormat(delimiter=";", encoding="utf-8-sig", decimal=",")


def csv_format(excel: bool) -> CsvFormat:
    return EXCEL if excel else PLAIN


class RatingRow(NamedTuple):
    wave_id: int
    region_code: str
    region_name: str
    municipality_code: str
    municipality_name: str
    track: str
    topic: str
    respondents: int | None
    score: float | None
    ci_low: float | None
    ci_high: float | None
    satisfied_share: float | None
    rank: int | None
    suppressed: bool


class AnswerRow(NamedTuple):
    wave_id: int
    respondent: str
    region_code: str
    municipality_code: str
    age_band: str
    track: str
    question_id: str
    topic: str
    #: A scale answer (int), option ids joined with `|` or free text (str), or None (skipped).
    value: int | str | None
    answered_at: str


RATINGS_COLUMNS: tuple[str, ...] = RatingRow._fields
ANSWERS_COLUMNS: tuple[str, ...] = AnswerRow._fields
#: Decimal places of the fractional columns; every other column is an integer or text.
RATINGS_DECIMALS: Mapping[str, int] = {
    "score": 1,
    "ci_low": 1,
    "ci_high": 1,
    "satisfied_share": 3,
}


def protect(text: str) -> str:
    """Neutralise a text cell that a spreadsheet would otherwise run as a formula."""
    return "'" + text if text and text[0] in _FORMULA_TRIGGERS else text


class CsvWriter:
    """Formats cells by their Python type: str is text, int and float are numbers."""

    def __init__(
        self, stream: io.TextIOBase, columns: Sequence[str], fmt: CsvFormat,
        decimals: Mapping[str, int] | None = None,
    ) -> None:
        self._writer = csv.writer(stream, delimiter=fmt.delimiter, lineterminator="\r\n")
        self._decimal = fmt.decimal
        decimals = decimals or {}
        self._digits = [decimals.get(name) for name in columns]
        self._writer.writerow(columns)

    def write(self, row: Sequence[object]) -> None:
        self._writer.writerow([self.cell(v, d) for v, d in zip(row, self._digits, strict=True)])

    def cell(self, value: object, digits: int | None = None) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return protect(value)
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float) and digits is not None:
            text = f"{round_half_up(value, digits):.{digits}f}"
            return text if self._decimal == "." else text.replace(".", self._decimal)
        raise TypeError(f"cannot write {value!r} in a column without a number format")

    def writerow_raw(self, cells: Sequence[str]) -> None:
        """Cells already formatted with `cell`: the answers file reuses repeated ones."""
        self._writer.writerow(cells)


@contextmanager
def _csv_text(target: BinaryIO, fmt: CsvFormat) -> Iterator[io.TextIOWrapper]:
    """Text on top of the caller's binary stream, which stays open (it may be stdout)."""
    text = io.TextIOWrapper(target, encoding=fmt.encoding, newline="")
    try:
        yield text
    finally:
        text.flush()
        text.detach()


class RatingsCsv:
    def __init__(self, stream: io.TextIOBase, fmt: CsvFormat) -> None:
        self._writer = CsvWriter(stream, RATINGS_COLUMNS, fmt, RATINGS_DECIMALS)
        self.rows = 0

    def write_many(self, rows: Iterable[RatingRow]) -> None:
        for row in rows:
            self._writer.write(row)
            self.rows += 1


class AnswersCsv:
    """Ten million rows make the per-cell work count: the first six cells of a row repeat
    through a respondent's answers and question ids repeat across respondents, so their
    formatted form is reused rather than checked again.
    """

    def __init__(self, stream: io.TextIOBase, fmt: CsvFormat) -> None:
        self._writer = CsvWriter(stream, ANSWERS_COLUMNS, fmt)
        self._last_head: tuple[object, ...] = ()
        self._head: list[str] = []
        self._questions: dict[tuple[str, str], list[str]] = {}
        self.rows = 0

    def write_many(self, rows: Iterable[AnswerRow]) -> None:
        cell = self._writer.cell
        write = self._writer.writerow_raw
        questions = self._questions
        for row in rows:
            if row[:6] != self._last_head:
                self._last_head = row[:6]
                self._head = [cell(value) for value in self._last_head]
            key = (row.question_id, row.topic)
            question = questions.get(key)
            if question is None:
                question = questions[key] = [cell(row.question_id), cell(row.topic)]
            write([*self._head, *question, cell(row.value), cell(row.answered_at)])
            self.rows += 1


@contextmanager
def ratings_csv(target: BinaryIO, *, excel: bool = False) -> Iterator[RatingsCsv]:
    """A ratings file being written into `target`; feed it rows as they come."""
    fmt = csv_format(excel)
    with _csv_text(target, fmt) as text:
        yield RatingsCsv(text, fmt)


@contextmanager
def answers_csv(target: BinaryIO, *, excel: bool = False) -> Iterator[AnswersCsv]:
    """An answers file being written into `target`; feed it rows chunk by chunk."""
    fmt = csv_format(excel)
    with _csv_text(target, fmt) as text:
        yield AnswersCsv(text, fmt)


def write_ratings(rows: Iterable[RatingRow], target: BinaryIO, *, excel: bool = False) -> int:
    """The whole ratings file in one call; returns the number of data rows."""
    with ratings_csv(target, excel=excel) as out:
        out.write_many(rows)
    return out.rows


def write_answers(rows: Iterable[AnswerRow], target: BinaryIO, *, excel: bool = False) -> int:
    """The whole answers file in one call; returns the number of data rows."""
    with answers_csv(target, excel=excel) as out:
        out.write_many(rows)
    return out.rows
