"""A citizen's /results message: their region's scores beside the whole wave's, and in
plain words whether each got better or worse since the previous wave.

No aiogram here: `civicpulse surveys validate` renders this very message with every topic
shown (`bot.chat.message_limits`), so that a survey with more topic text than one message
holds is refused before a wave closes, and that command starts without aiogram.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from bot.chat.texts import Texts
from surveys.aggregate import Estimate
from surveys.change import IMPROVED, NO_CLEAR_CHANGE, ChangeEstimate
from surveys.region_summary import RegionComparison

#: The signs of a change as printed: a true minus sign, which a hyphen only resembles.
_PLUS, _MINUS = "+", "\N{MINUS SIGN}"


def region_results_text(
    survey_title: str,
    region_name: str,
    comparison: RegionComparison,
    texts: Texts,
    changes: Mapping[str, ChangeEstimate] | None = None,
    situations: Sequence[tuple[str, float]] = (),
) -> str:
    """`changes`: the region's change since the previous wave by topic id (and `overall`),
    only for the cells the change file shows; a topic without one gets no word on change.
    `situations`: the title and the region's score of each situation the citizen lived, only
    where the situations file shows it."""
    header = texts("results.header", survey=escape(survey_title), region=escape(region_name))
    lived = [
        texts("results.situation", situation=escape(title), score=texts.figure(score))
        for title, score in situations
    ]
    lived_part = ["", *lived] if lived else []
    if not comparison.topics:
        return "\n".join([header, "", texts("results.hidden"), *lived_part])
    lines = [header, ""]
    for topic in comparison.topics:
        name = topic.title.get(texts.language) if topic.title else texts("results.overall")
        line = texts(
            "results.line",
            topic=escape(name),
            region=_score(topic.region, texts),
            wave=_score(topic.wave, texts),
        )
        change = (changes or {}).get(topic.topic)
        if change is not None:
            line = texts("results.with_change", line=line, change=change_words(change, texts))
        lines.append(line)
    if comparison.rank is not None:
        lines += ["", texts("results.rank", rank=comparison.rank, total=comparison.ranked_regions)]
    return "\n".join([*lines, *lived_part])


def _score(estimate: Estimate | None, texts: Texts) -> str:
    """Rounded as the ratings file rounds it (half up: 72.25 is 72.3 in both), with the
    reader's decimal mark: "72,3" in Russian, as the Excel file writes it."""
    if estimate is None:
        return "—"
    return texts.figure(estimate.score)


def change_words(change: ChangeEstimate, texts: Texts) -> str:
    """The change file's verdict in words. The figure is rounded as the file rounds it and
    shown only with a clear change: where the interval holds zero, a number would read as a
    change that the answers do not support."""
    if change.verdict == NO_CLEAR_CHANGE:
        return texts("results.change_unclear")
    improved = change.verdict == IMPROVED
    figure = texts.figure(abs(change.change))
    signed = f"{_PLUS if improved else _MINUS}{figure}"
    return texts("results.change_better" if improved else "results.change_worse", change=signed)
