"""What a region is doing, as a citizen reads it: `/actions`, and the actions on the topics a
citizen rated lowest, first, after a survey and in `/results`.

Every title, description and place name is typed by staff or comes from files, so every one
is escaped; a link was checked to be https:// when it was entered and is escaped as an
attribute here. Pure text, no aiogram: `surveys validate` renders the longest message.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape

from bot.chat.texts import Texts
from surveys.actions import Action
from surveys.model import Survey
from surveys.regions import RegionCatalog

#: Actions in one message: beyond this a citizen reads a count, not a wall of text, and ten
#: of the longest titles under ten of the longest headings stay inside Telegram's limit.
#: Descriptions are for the results site; a chat list names, dates and links.
MAX_SHOWN = 10
#: The date of a status as the reader's language writes dates.
_DATE = {"ru": "%d.%m.%Y", "en": "%d %b %Y"}


def ordered(
    actions: Sequence[Action], first_topics: Sequence[str], topics: Sequence[str]
) -> list[Action]:
    """`first_topics` (say, the ones a citizen rated lowest) first, in their order, then the
    survey's other topics in survey order, then actions about no topic; the region's own
    actions before a municipality's within each, as stored."""
    rank = {topic: index for index, topic in enumerate(dict.fromkeys((*first_topics, *topics)))}
    return sorted(actions, key=lambda action: rank.get(action.topic or "", len(rank)))


def actions_lines(
    actions: Sequence[Action],
    topic_titles: Mapping[str, str],
    places: Mapping[str, str],
    texts: Texts,
) -> list[str]:
    """Each action as a line under its topic's heading, in the order given; the rest counted."""
    lines: list[str] = []
    heading: str | None = None
    for action in actions[:MAX_SHOWN]:
        topic = topic_titles.get(action.topic or "", texts("actions.other_topic"))
        if topic != heading:
            lines += ["", f"<b>{escape(topic)}</b>"]
            heading = topic
        lines.append(_line(action, places, texts))
    if len(actions) > MAX_SHOWN:
        lines += ["", texts("actions.more", n=len(actions) - MAX_SHOWN)]
    return lines


def actions_text(
    region_name: str,
    actions: Sequence[Action],
    topic_titles: Mapping[str, str],
    places: Mapping[str, str],
    texts: Texts,
) -> str:
    """The whole `/actions` message."""
    header = texts("actions.header", region=escape(region_name))
    if not actions:
        return f"{header}\n\n{texts('actions.none')}"
    return "\n".join([header, *actions_lines(actions, topic_titles, places, texts)])


def area_actions_text(
    found: Sequence[Action],
    region_code: str,
    first_topics: Sequence[str],
    catalog: RegionCatalog,
    surveys: Iterable[Survey],
    texts: Texts,
) -> str:
    """`/actions` and the list after a survey alike: a region's and a municipality's
    actions under the region's name, `first_topics` first, places named from the catalog."""
    titles = topic_titles(surveys, texts.language)
    places = {
        code: municipality.name.get(texts.language)
        for code in {action.municipality_code for action in found if action.municipality_code}
        if (municipality := catalog.municipality(region_code, code)) is not None
    }
    region = catalog.region(region_code)
    name = region.name.get(texts.language) if region else region_code
    return actions_text(name, ordered(found, first_topics, list(titles)), titles, places, texts)


def topic_titles(surveys: Iterable[Survey], language: str) -> dict[str, str]:
    """Every topic id of the surveys with its title, in survey order: actions name topics by
    id, and the same id means the same topic in every survey."""
    titles: dict[str, str] = {}
    for survey in surveys:
        for topic in survey.topics:
            titles.setdefault(topic.id, topic.title.get(language))
    return titles


def _line(action: Action, places: Mapping[str, str], texts: Texts) -> str:
    language = texts.language
    status = texts(f"actions.status.{action.status}")
    if action.since is not None:
        status = texts("actions.since", status=status, date=action.since.strftime(_DATE[language]))
    place = places.get(action.municipality_code or "")
    title = escape(action.title(language))
    line = f"• {title} ({escape(place)}) — {status}" if place else f"• {title} — {status}"
    if action.link:
        line += f'\n  <a href="{escape(action.link, quote=True)}">{texts("actions.link")}</a>'
    return line
