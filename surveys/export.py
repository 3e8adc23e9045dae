"""The CSV files analysts receive: ratings, change, series, segments, situations and answers,
as a feed or for Excel.

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

import codecs
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import BinaryIO, NamedTuple

from surveys.figures import format_figure

_FORMULA_TRIGGERS = frozenset("=+-@\t\r\0")


@dataclass(frozen=True, slots=True)
class CsvFormat:
    delimiter: str
    bom: bool
    decimal: str


PLAIN = CsvFormat(delimiter=",", bom=False, decimal=".")
EXCEL = CsvFormat(delimiter=";", bom=True, decimal=",")


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
    # Appended after `suppressed`, so readers of the older columns keep working.
    rank_low: int | None
    rank_high: int | None
    group: str | None
    share_low: float | None
    share_high: float | None


class ChangeRow(NamedTuple):
    wave_id: int
    against_wave_id: int
    region_code: str
    region_name: str
    municipality_code: str
    municipality_name: str
    track: str
    topic: str
    respondents_before: int | None
    score_before: float | None
    respondents: int | None
    score: float | None
    change: float | None
    change_low: float | None
    change_high: float | None
    verdict: str | None
    comparable: bool
    suppressed: bool


class SeriesRow(NamedTuple):
    survey_id: str
    wave_id: int
    wave_ends_at: str
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
    change: float | None
    change_low: float | None
    change_high: float | None
    verdict: str | None
    comparable: bool
    suppressed: bool


class SegmentRow(NamedTuple):
    wave_id: int
    region_code: str
    region_name: str
    municipality_code: str
    municipality_name: str
    track: str
    topic: str
    segment: str
    respondents: int | None
    score: float | None
    ci_low: float | None
    ci_high: float | None
    rest_respondents: int | None
    rest_score: float | None
    gap: float | None
    gap_low: float | None
    gap_high: float | None
    verdict: str | None
    suppressed: bool


class SituationRow(NamedTuple):
    wave_id: int
    against_wave_id: int | None
    region_code: str
    region_name: str
    municipality_code: str
    municipality_name: str
    situation: str
    #: `score`, `got_needed` or a number question's id.
    measure: str
    unit: str
    respondents: int | None
    value: float | None
    low: float | None
    high: float | None
    q1: float | None
    q3: float | None
    value_before: float | None
    change: float | None
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
    #: A scale or number answer (int), option ids joined with `|`, free text or `dont_know`
    #: (a number question's "I don't remember") (str), or None (skipped).
    value: int | str | None
    answered_at: str


RATINGS_COLUMNS: tuple[str, ...] = RatingRow._fields
CHANGE_COLUMNS: tuple[str, ...] = ChangeRow._fields
SERIES_COLUMNS: tuple[str, ...] = SeriesRow._fields
ANSWERS_COLUMNS: tuple[str, ...] = AnswerRow._fields
SEGMENTS_COLUMNS: tuple[str, ...] = SegmentRow._fields
SITUATIONS_COLUMNS: tuple[str, ...] = SituationRow._fields
_MEASURE = SITUATIONS_COLUMNS.index("measure")
#: Decimal places of the fractional columns; every other column is an integer or text.
RATINGS_DECIMALS: Mapping[str, int] = {
    "score": 1,
    "ci_low": 1,
    "ci_high": 1,
    "satisfied_share": 3,
    "share_low": 3,
    "share_high": 3,
}
CHANGE_DECIMALS: Mapping[str, int] = {
    "score_before": 1,
    "score": 1,
    "change": 1,
    "change_low": 1,
    "change_high": 1,
}

SERIES_DECIMALS: Mapping[str, int] = {
    "score": 1,
    "ci_low": 1,
    "ci_high": 1,
    "change": 1,
    "change_low": 1,
    "change_high": 1,
}

SEGMENTS_DECIMALS: Mapping[str, int] = {
    "score": 1,
    "ci_low": 1,
    "ci_high": 1,
    "rest_score": 1,
    "gap": 1,
    "gap_low": 1,
    "gap_high": 1,
}
#: A situations row's figures share one number of decimals, by measure: a score's one, a
#: share's three, and a number's median and quartiles one (halves of whole answers, exact).
_FIGURES = ("value", "low", "high", "q1", "q3", "value_before", "change")
SITUATIONS_DECIMALS: Mapping[str, Mapping[str, int]] = {
    "score": dict.fromkeys(_FIGURES, 1),
    "got_needed": dict.fromkeys(_FIGURES, 3),
    "number": dict.fromkeys(_FIGURES, 1),
}


def protect(text: str) -> str:
    """Neutralise a text cell that a spreadsheet would otherwise run as a formula."""
    return "'" + text if text and text[0] in _FORMULA_TRIGGERS else text


class CellFormat:
    """Formats cells by their Python type: str is text, int and float are numbers."""

    def __init__(self, fmt: CsvFormat) -> None:
        self._decimal = fmt.decimal

    def __call__(self, value: object, digits: int | None = None) -> str:
        # A figure first: a file of figures holds a million of them.
        if type(value) is float and digits is not None:
            return format_figure(value, digits, self._decimal)
        if value is None:
            return ""
        if isinstance(value, str):
            return protect(value)
        if isinstance(value, bool):
            return "1" if value else "0"
        if isinstance(value, int):
            return str(value)
        if isinstance(value, float) and digits is not None:
            return format_figure(value, digits, self._decimal)
        raise TypeError(f"cannot write {value!r} in a column without a number format")


class CsvSink:
    """Formatted cells → RFC 4180 lines → UTF-8 bytes into the target, a batch at a time.

    Lines are joined by hand rather than by the csv module: in the answers file nearly every
    cell is a code, a number or an id that needs no quoting, and the few that do are found
    with four substring tests. Encoding a whole batch at once keeps the per-row cost down,
    and memory holds one batch only. The target stays open: it may be stdout.
    """

    def __init__(self, target: BinaryIO, fmt: CsvFormat, columns: Sequence[str]) -> None:
        self._target = target
        self.delimiter = fmt.delimiter
        if fmt.bom:
            target.write(codecs.BOM_UTF8)
        self.write([columns])

    def field(self, cell: str) -> str:
        """Quoted (with doubled quotes) only if it holds a delimiter, a quote or a line break."""
        if self.delimiter in cell or '"' in cell or "\n" in cell or "\r" in cell:
            return '"' + cell.replace('"', '""') + '"'
        return cell

    def line(self, cells: Sequence[str]) -> str:
        """The cells joined, each quoted as `field` says. Most lines need no quotes at all,
        which one look at the whole line tells: no quote or line break, and no delimiter
        but those between the cells."""
        delimiter = self.delimiter
        text = delimiter.join(cells)
        if text.count(delimiter) >= len(cells) or '"' in text or "\n" in text or "\r" in text:
            text = delimiter.join(map(self.field, cells))
        return text + "\r\n"

    def write(self, rows: Iterable[Sequence[str]]) -> None:
        self.write_lines([self.line(cells) for cells in rows])

    def write_lines(self, lines: list[str]) -> None:
        # A lone surrogate (never valid text) must not abort a ten-million-row export.
        self._target.write("".join(lines).encode("utf-8", "replace"))


class FiguresCsv:
    """A file of figures (named columns, some with a fixed number of decimals): give it rows
    as they come; `rows` counts them. The ratings and the change file are two of these."""

    columns: tuple[str, ...] = ()
    decimals: Mapping[str, int] = {}

    def __init__(self, target: BinaryIO, *, excel: bool = False) -> None:
        fmt = csv_format(excel)
        self._sink = CsvSink(target, fmt, self.columns)
        self._cell = CellFormat(fmt)
        self._texts = _Texts(self._cell)
        self._digits = self.column_digits(self.decimals)
        self.rows = 0

    @classmethod
    def column_digits(cls, decimals: Mapping[str, int]) -> list[int | None]:
        return [decimals.get(name) for name in cls.columns]

    @classmethod
    def row_decimals(cls, row: Sequence[object]) -> Mapping[str, int]:
        """The decimals of `row`'s fractional columns by name, for a reader that shows one
        figure at a time (the public site) exactly as this file writes it."""
        return cls.decimals

    def digits(self, row: Sequence[object]) -> Sequence[int | None]:
        """Each column's decimals in `row`: the same in every row, unless a file says not."""
        return self._digits

    def write_many(self, rows: Iterable[Sequence[object]]) -> None:
        cell, texts = self._cell, self._texts
        batch = [
            [
                texts[v] if type(v) in _REPEATED else cell(v, d)
                for v, d in zip(row, self.digits(row), strict=True)
            ]
            for row in rows
        ]
        self._sink.write(batch)
        self.rows += len(batch)


#: Cell types whose text does not depend on the column, and whose values repeat row after
#: row (codes, names, tracks, flags, counts). Exact types: a float equal to an int (1.0,
#: 1) is written otherwise, and is never looked up among these.
_REPEATED = frozenset({str, int, bool, type(None)})


class _Texts(dict[object, str]):
    """Each repeated cell's text, made once per file: a region's name stands in thousands
    of its rows. True and 1 (False and 0) share an entry, as they share their text."""

    def __init__(self, cell: CellFormat) -> None:
        super().__init__()
        self._cell = cell

    def __missing__(self, value: object) -> str:
        text = self[value] = self._cell(value)
        return text


class RatingsCsv(FiguresCsv):
    """The ratings file."""

    columns = RATINGS_COLUMNS
    decimals = RATINGS_DECIMALS


class ChangeCsv(FiguresCsv):
    """The change file: two waves' cells side by side, their change and its interval."""

    columns = CHANGE_COLUMNS
    decimals = CHANGE_DECIMALS


class SeriesCsv(FiguresCsv):
    """The series file: every closed wave of a survey in turn, each with its change since
    the wave before."""

    columns = SERIES_COLUMNS
    decimals = SERIES_DECIMALS


class SegmentsCsv(FiguresCsv):
    """The segments file: each population group beside the rest of its area, and the gap."""

    columns = SEGMENTS_COLUMNS
    decimals = SEGMENTS_DECIMALS


class SituationsCsv(FiguresCsv):
    """The situations file, in long format: its figures' decimals follow each row's measure
    (a score's one, a share's three, a median's one)."""

    columns = SITUATIONS_COLUMNS

    def __init__(self, target: BinaryIO, *, excel: bool = False) -> None:
        super().__init__(target, excel=excel)
        self._by_measure = {
            measure: self.column_digits(decimals)
            for measure, decimals in SITUATIONS_DECIMALS.items()
        }

    def digits(self, row: Sequence[object]) -> Sequence[int | None]:
        return self._by_measure.get(str(row[_MEASURE]), self._by_measure["number"])

    @classmethod
    def row_decimals(cls, row: Sequence[object]) -> Mapping[str, int]:
        return SITUATIONS_DECIMALS.get(str(row[_MEASURE]), SITUATIONS_DECIMALS["number"])


class AnswersCsv:
    """The answers file, fed chunk by chunk; `rows` counts the rows written.

    Ten million rows make the per-cell work count: the first six cells repeat through a
    respondent's answers and question ids repeat across respondents, so their formatted
    text is reused instead of being checked again.
    """

    def __init__(self, target: BinaryIO, *, excel: bool = False) -> None:
        fmt = csv_format(excel)
        self._sink = CsvSink(target, fmt, ANSWERS_COLUMNS)
        self._cell = CellFormat(fmt)
        self._last_head: tuple[object, ...] = ()
        self._head = ""
        self._questions: dict[tuple[object, ...], str] = {}
        self.rows = 0

    def _prefix(self, cells: Iterable[object]) -> str:
        sink = self._sink
        return "".join(sink.field(self._cell(value)) + sink.delimiter for value in cells)

    def write_many(self, rows: Iterable[AnswerRow]) -> None:
        field, delimiter, questions = self._sink.field, self._sink.delimiter, self._questions
        last_head, head = self._last_head, self._head
        lines = []
        for row in rows:
            if row[:6] != last_head:
                last_head = row[:6]
                head = self._prefix(last_head)
            question = questions.get(row[6:8])
            if question is None:
                question = questions[row[6:8]] = self._prefix(row[6:8])
            value = row[8]
            text = (
                ""
                if value is None
                else str(value)
                if isinstance(value, int)
                else field(protect(value))
            )
            lines.append(f"{head}{question}{text}{delimiter}{field(protect(row[9]))}\r\n")
        self._last_head, self._head = last_head, head
        self._sink.write_lines(lines)
        self.rows += len(lines)


def write_ratings(rows: Iterable[RatingRow], target: BinaryIO, *, excel: bool = False) -> int:
    """The whole ratings file in one call; returns the number of data rows."""
    out = RatingsCsv(target, excel=excel)
    out.write_many(rows)
    return out.rows


def write_answers(rows: Iterable[AnswerRow], target: BinaryIO, *, excel: bool = False) -> int:
    """The whole answers file in one call; returns the number of data rows."""
    out = AnswersCsv(target, excel=excel)
    out.write_many(rows)
    return out.rows
