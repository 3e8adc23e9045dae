"""A citizen's /results message: their region's scores beside the whole wave's.

No aiogram here: `civicpulse surveys validate` renders this very message with every topic
shown (`bot.chat.message_limits`), so that a survey with more topic text than one message
holds is refused before a wave closes, and that command starts without aiogram.
"""

from __future__ import annotations

from html import escape

from bot.chat.texts import Texts
from surveys.aggregate import Estimate
from surveys.figures import format_figure
from surveys.region_summary import RegionComparison


def region_results_text(
    survey_title: str, region_name: str, comparison: RegionComparison, texts: Texts
) -> str:
    header = texts("results.header", survey=escape(survey_title), region=escape(region_name))
    if not comparison.topics:
        return f"{header}\n\n{texts('results.hidden')}"
    lines = [header, ""]
    for topic in comparison.topics:
        name = topic.title.get(texts.language) if topic.title else texts("results.overall")
        line = texts(
            "results.line",
            topic=escape(name),
            region=_score(topic.region, texts),
            wave=_score(topic.wave, texts),
        )
        lines.append(line)
    if comparison.rank is not None:
        lines += ["", texts("results.rank", rank=comparison.rank, total=comparison.ranked_regions)]
    return "\n".join(lines)


def _score(estimate: Estimate | None, texts: Texts) -> str:
    """Rounded as the ratings file rounds it (half up: 72.25 is 72.3 in both), with the
    reader's decimal mark: "72,3" in Russian, as the Excel file writes it."""
    if estimate is None:
        return "—"
    return format_figure(estimate.score, decimal=texts("number.decimal_mark"))
