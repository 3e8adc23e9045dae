"""A citizen's /results message: their region's scores beside the whole wave's.

No aiogram here: `civicpulse surveys validate` renders this very message with every topic
shown (`bot.chat.message_limits`), so that a survey with more topic text than one message
holds is refused before a wave closes, and that command starts without aiogram.
"""

from __future__ import annotations

from html import escape

from bot.chat.texts import Texts
from surveys.aggregate import Estimate
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
            "results.line", topic=escape(name), region=_score(topic.region), wave=_score(topic.wave)
        )
        lines.append(line)
    if comparison.rank is not None:
        lines += ["", texts("results.rank", rank=comparison.rank, total=comparison.ranked_regions)]
    return "\n".join(lines)


def _score(estimate: Estimate | None) -> str:
    return "—" if estimate is None else f"{estimate.score:.1f}"
