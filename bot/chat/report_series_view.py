"""`/report WAVE REGION`: a region's scores through a survey's closed waves, as text.

Each topic (overall first) lists the region's score with its 95% interval in every wave of
the series, as the series file publishes them (same rounding, same suppression), and ends
with the verdict of the latest change. No aiogram here: `civicpulse surveys validate`
renders the longest such message (`bot.chat.message_limits`) and starts without aiogram.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from html import escape

from bot.chat.results_view import change_words
from bot.chat.text_length import MAX_TEXT_LENGTH, visible_length
from bot.chat.texts import Texts
from surveys.series import SeriesCell

#: Waves a message shows at most, the latest last: enough for a trend.
REPORT_WAVES = 5
#: A survey of many topics shows fewer, the oldest left out until the message fits
#: Telegram's limit, but never fewer than a change needs: `surveys validate` checks
#: (`bot.chat.message_limits`) that every survey fits with these.
MIN_REPORT_WAVES = 2


@dataclass(frozen=True, slots=True)
class ReportWave:
    wave_id: int
    #: The day the wave ended, in the administrators' time zone.
    ended: date


@dataclass(frozen=True, slots=True)
class ReportTopic:
    #: The topic's title in the reader's language, or the overall index's name.
    title: str
    #: The region's cell in each wave, aligned with the waves.
    line: Sequence[SeriesCell]


def region_series_text(
    survey_title: str,
    region_name: str,
    waves: Sequence[ReportWave],
    topics: Sequence[ReportTopic],
    texts: Texts,
) -> str:
    """The message, without the oldest waves while it is over Telegram's limit (down to
    `MIN_REPORT_WAVES`)."""
    for first in range(max(len(waves) - MIN_REPORT_WAVES, 0) + 1):
        shown = [ReportTopic(topic.title, topic.line[first:]) for topic in topics]
        text = _series_text(survey_title, region_name, waves[first:], shown, texts)
        if visible_length(text) <= MAX_TEXT_LENGTH:
            break
    return text


def _series_text(
    survey_title: str,
    region_name: str,
    waves: Sequence[ReportWave],
    topics: Sequence[ReportTopic],
    texts: Texts,
) -> str:
    lines = [
        texts(
            "report.series_header",
            region=escape(region_name),
            survey=escape(survey_title),
            waves=len(waves),
        )
    ]
    for topic in topics:
        lines += ["", f"<b>{escape(topic.title)}</b>"]
        lines += [_point(wave, cell, texts) for wave, cell in zip(waves, topic.line, strict=True)]
        latest = topic.line[-1].change
        if latest is not None:
            lines.append(texts("report.series_change", change=change_words(latest, texts)))
    return "\n".join(lines)


def _point(wave: ReportWave, cell: SeriesCell, texts: Texts) -> str:
    """One wave's score with its interval, rounded as the series file rounds them."""
    when = {"wave": wave.wave_id, "date": wave.ended.strftime("%d.%m.%Y")}
    estimate = cell.cell.estimate if cell.cell else None
    if cell.cell is None or estimate is None:
        return texts("report.series_hidden", **when)
    figures = {
        "score": texts.figure(estimate.score),
        "respondents": cell.cell.respondents,
    }
    if estimate.ci_low is None or estimate.ci_high is None:
        return texts("report.series_point_bare", **when, **figures)
    low, high = texts.figure(estimate.ci_low), texts.figure(estimate.ci_high)
    return texts("report.series_point", **when, **figures, low=low, high=high)
