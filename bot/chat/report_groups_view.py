"""`/report WAVE REGION`, second message: the region's life situations and its groups' gaps
in that wave, as text.

Only what the situations and segments files show: a suppressed cell (or one nobody in the
region answered) reads "too few answers", never a number, and a share the file withholds is
left out. Figures are rounded as the files round them. No aiogram here: `surveys validate`
renders the longest such message (`bot.chat.message_limits`) and starts without aiogram.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from bot.chat.texts import Texts, unit_noun
from surveys.aggregate import OVERALL
from surveys.model import Survey
from surveys.segments import SEGMENTS, SegmentCell, SegmentTable
from surveys.situations import GOT_NEEDED, SCORE, SituationCell, SituationTable

_MINUS = "\N{MINUS SIGN}"


@dataclass(frozen=True, slots=True)
class SituationFigures:
    #: The situation's title in the reader's language.
    title: str
    #: The region's cell of each of the situation's measures in survey order; None where
    #: nobody in the region answered.
    cells: Sequence[SituationCell | None]


def region_situations(
    survey: Survey, table: SituationTable, region_code: str, language: str
) -> list[SituationFigures]:
    """The region's cells of every situation of `survey`, in survey order."""
    area = (region_code,)
    return [
        SituationFigures(
            situation.title.get(language),
            [
                table.cells.get((area, measure.situation, measure.id))
                for measure in table.measures
                if measure.situation == situation.id
            ],
        )
        for situation in survey.situations
    ]


def region_gaps(table: SegmentTable, region_code: str) -> list[SegmentCell | None]:
    """Each group's overall cell for the region's whole track, in the file's order."""
    return [table.cells.get(((region_code,), "all", OVERALL, segment)) for segment in SEGMENTS]


def region_wave_text(
    wave_id: int,
    region_name: str,
    situations: Sequence[SituationFigures],
    gaps: Sequence[SegmentCell | None],
    texts: Texts,
) -> str:
    """The message; a survey without situations has no situations part."""
    lines = [texts("report.wave_header", region=escape(region_name), wave=wave_id)]
    if situations:
        lines += ["", texts("report.situations")]
        for situation in situations:
            lines += _situation_lines(situation, texts)
    lines += ["", texts("report.groups")]
    lines += [_gap_line(segment, cell, texts) for segment, cell in zip(SEGMENTS, gaps, strict=True)]
    return "\n".join(lines)


def _situation_lines(situation: SituationFigures, texts: Texts) -> list[str]:
    title = escape(situation.title)
    shown = [cell for cell in situation.cells if cell is not None and cell.figure is not None]
    if not shown:
        return [texts("report.too_few", name=f"<b>{title}</b>")]
    return [f"<b>{title}</b>", *(_measure_line(cell, texts) for cell in shown)]


def _measure_line(cell: SituationCell, texts: Texts) -> str:
    figure = cell.figure
    assert figure is not None  # only shown cells reach here
    measure = cell.measure
    if measure.id == SCORE:
        interval = _interval(figure.low, figure.high, texts)
        return texts(
            "report.situation_score",
            score=texts.figure(figure.value),
            interval=interval,
            respondents=cell.respondents,
        )
    if measure.id == GOT_NEEDED:
        low = None if figure.low is None else figure.low * 100
        high = None if figure.high is None else figure.high * 100
        interval = _interval(low, high, texts)
        share = texts.figure(figure.value * 100)
        return texts("report.situation_needed", share=share, interval=interval)
    unit = unit_noun(figure.value, measure.unit, texts.language) if measure.unit else ""
    return texts(
        "report.situation_median",
        median=_whole_or_half(texts, figure.value),
        unit=unit,
        interval=_interval(figure.q1, figure.q3, texts, _whole_or_half),
    )


def _gap_line(segment: str, cell: SegmentCell | None, texts: Texts) -> str:
    name = texts(f"segment.{segment}")
    name = name[:1].upper() + name[1:]
    if cell is None or cell.group is None or cell.rest is None or cell.gap is None:
        return texts("report.too_few", name=name)
    gap = cell.gap
    return texts(
        "report.group_gap",
        group=name,
        score=texts.figure(cell.group.score),
        rest=texts.figure(cell.rest.score),
        gap=_signed(texts, gap.gap),
        interval=_interval(gap.low, gap.high, texts, _signed, " … "),
        verdict=texts(f"report.gap_{gap.verdict}"),
    )


def _whole_or_half(texts: Texts, value: float) -> str:
    """A median or quartile of whole answers is a whole or a half, exact: "4", "4,5"."""
    digits = 0 if value == int(value) else 1
    return texts.figure(value, digits)


def _signed(texts: Texts, value: float) -> str:
    """With a true minus sign; the sign follows the rounded figure, so no "−0,0"."""
    text = texts.figure(abs(value))
    return f"{_MINUS}{text}" if value < 0 and text.strip("0,.") else text


def _interval(
    low: float | None,
    high: float | None,
    texts: Texts,
    write: Callable[[Texts, float], str] = Texts.figure,
    between: str = "–",
) -> str:
    """ " (a–b)", or nothing where the file has no interval; signed bounds are set apart
    with " … ", since "−9,1–−2,0" reads as a subtraction."""
    if low is None or high is None:
        return ""
    return f" ({write(texts, low)}{between}{write(texts, high)})"
