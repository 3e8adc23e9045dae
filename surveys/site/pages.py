"""The site's pages as HTML text: the front page (map, regions' table, open data), one page
per region, and how to read the figures. Each takes the content and a language."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from surveys.actions import Action
from surveys.aggregate import OVERALL
from surveys.composite_index import INDEX
from surveys.site.content import KINDS, LEVELS, DataFile, SiteContent
from surveys.site.html import Figures, esc, page, table
from surveys.site.texts import HOW_TO_READ, TEXTS

_HTTPS = "https://"
#: The front page's maps: by score always (where the catalog has a tile layout), and by
#: change where the wave has a change file.
MAP, CHANGE_MAP = "map.svg", "map-change.svg"


def region_path(code: str) -> str:
    return f"regions/{code}.html"


class _Words:
    """The names the pages put beside the figures: catalog and survey names in the page's
    language, and the words for the files' codes."""

    def __init__(self, content: SiteContent, language: str) -> None:
        self.content, self.language = content, language
        self.text = TEXTS[language]

    def region(self, code: str) -> str:
        region = self.content.catalog.region(code)
        return region.name.get(self.language) if region else code

    def municipality(self, region_code: str, code: str) -> str:
        if not code:
            return self.text["whole_region"]
        found = self.content.catalog.municipality(region_code, code)
        return found.name.get(self.language) if found else code

    def topic(self, topic_id: str | None) -> str:
        if topic_id in (OVERALL, INDEX):
            return self.text[topic_id]
        topic = self.content.survey.topic(topic_id) if topic_id else None
        return topic.title.get(self.language) if topic else topic_id or ""

    def situation(self, situation_id: str | None) -> str:
        found = self.content.survey.situation(situation_id) if situation_id else None
        return found.title.get(self.language) if found else situation_id or ""

    def measure(self, measure: str, unit: str) -> str:
        if measure in ("score", "got_needed"):
            return self.text["score" if measure == "score" else "got_needed"]
        question = self.content.survey.question(measure)
        what = question.text.get(self.language) if question else measure
        return f"{what} ({self.text['median'].format(unit=self.text.get(unit, unit))})"

    def code(self, code: str | None) -> str:
        """A file's code (verdict, group, track, segment, status) in words."""
        return self.text.get(code, code) if code else ""

    def heading(self) -> str:
        survey = self.content.survey.title.get(self.language)
        wave = self.text["wave"].format(
            wave=self.content.wave_id,
            start=self.content.start.isoformat(),
            end=self.content.end.isoformat(),
        )
        return f"{survey}. {wave}"


def _other(language: str, path: str, root: str) -> str:
    """The same page in the other language: Russian at the root, English under `en/`."""
    return f"{root}en/{path}" if language == "ru" else f"{root}{path}"


def _root(language: str, depth: int) -> str:
    return "../" * (depth + (1 if language == "en" else 0))


def _td(text: str) -> str:
    return f"<td>{esc(text)}</td>"


# The front page -----------------------------------------------------------------------


def index_page(content: SiteContent, language: str) -> str:
    words, figures = _Words(content, language), Figures(language)
    root = _root(language, 0)
    body = (
        _map(content, words) + _regions_table(content, words, figures) + _data(content, words, root)
    )
    return page(
        language,
        words.text["site"],
        body,
        root=root,
        other=_other(language, "index.html", root),
        heading=words.heading(),
    )


def _map(content: SiteContent, words: _Words) -> str:
    """The map by score, then by change where there is one: two images one after the
    other, each named by its caption and described by its alt text, which sends the reader
    to the table holding the same figures."""
    if words.language not in content.maps:
        return ""
    text = words.text
    maps = [(MAP, text["map_alt"], text["map_score"])]
    if words.language in content.change_maps:
        maps.append((CHANGE_MAP, text["change_map_alt"], text["map_change"]))
    waves = {"wave": content.wave_id, "against": content.against_wave_id}
    figures = "".join(
        f'<figure><img src="{name}" alt="{esc(alt.format(**waves))}">'
        f"<figcaption>{esc(caption.format(**waves))}</figcaption></figure>"
        for name, alt, caption in maps
    )
    return f"<h2>{esc(text['map_heading'])}</h2>{figures}"


def _regions_table(content: SiteContent, words: _Words, figures: Figures) -> str:
    ratings = content.file("ratings")
    if ratings is None:
        return ""
    change = content.file("change")
    changes = _positions(change, "all", OVERALL) if change else {}
    text = words.text
    headings = [
        text["region"],
        text["respondents"],
        text["score"],
        text["interval"],
        text["rank"],
        text["group"],
    ]
    if change:
        headings += [text["change"], text["verdict"]]
    rows = []
    for index, row in enumerate(ratings.rows):
        if row.track != "all" or row.topic != OVERALL:
            continue
        name = words.region(row.region_code)
        cells = [
            f'<td data-sort="{esc(name)}"><a href="{region_path(esc(row.region_code))}">'
            f"{esc(name)}</a></td>",
            figures.cell(ratings, index, "respondents"),
            figures.cell(ratings, index, "score"),
            figures.span_cell(ratings, index, "ci_low", "ci_high"),
            figures.span_cell(ratings, index, "rank_low", "rank_high"),
            _td(words.code(row.group)),
        ]
        if change:
            cells += _change_cells(change, changes.get(row.region_code), words, figures)
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f"<h2>{esc(text['table_heading'])}</h2>"
        f'<p class="note">{esc(text["table_note"])}</p>'
        + table(headings, rows, caption=text["table_heading"], sortable=True)
    )


def _positions(file: DataFile, track: str, topic: str) -> dict[str, int]:
    """The row of each region's cell of one track and topic."""
    return {
        row.region_code: index
        for index, row in enumerate(file.rows)
        if row.track == track and row.topic == topic
    }


def _change_cells(
    change: DataFile, index: int | None, words: _Words, figures: Figures
) -> list[str]:
    if index is None:
        return ["<td></td>", "<td></td>"]
    row = change.rows[index]
    if not row.comparable:
        return [_td(words.text["not_comparable"]), "<td></td>"]
    return [figures.cell(change, index, "change"), _td(words.code(row.verdict))]


def _data(content: SiteContent, words: _Words, root: str) -> str:
    items = []
    for kind in KINDS:
        for level in LEVELS:
            file = content.file(kind, level)
            if file is None:
                continue
            rows = words.text["rows"].format(rows=len(file.rows))
            items.append(
                f'<li><a href="{root}data/{esc(file.name)}" download>{esc(file.name)}</a> '
                f'<span class="note">({esc(rows)})</span></li>'
            )
    return (
        f'<h2 id="data">{esc(words.text["data"])}</h2>'
        f"<p>{esc(words.text['data_note'])}</p><ul>{''.join(items)}</ul>"
    )


# A region's page --------------------------------------------------------------------------


def region_codes(content: SiteContent) -> list[str]:
    """Regions with a page: those in the ratings file, in its order."""
    ratings = content.file("ratings")
    return list(ratings.by_region()) if ratings else []


def region_page(content: SiteContent, language: str, code: str) -> str:
    words, figures = _Words(content, language), Figures(language)
    root = _root(language, 1)
    sections = [
        _topics(content, code, words, figures),
        _change(content, code, words, figures),
        _municipalities(content, code, words, figures),
        _groups(content, code, words, figures),
        _situations(content, code, words, figures),
        _actions([a for a in content.actions if a.region_code == code], code, words),
    ]
    return page(
        language,
        words.region(code),
        "".join(sections),
        root=root,
        other=_other(language, region_path(code), root),
        heading=words.heading(),
    )


def _rows_of(content: SiteContent, kind: str, code: str, level: str = "region") -> Iterator[int]:
    file = content.file(kind, level)
    yield from (file.by_region().get(code, []) if file else [])


def _section(heading: str, headings: Sequence[str], rows: Sequence[str]) -> str:
    if not rows:
        return ""
    return f"<h2>{esc(heading)}</h2>" + table(headings, rows, caption=heading)


def _topics(content: SiteContent, code: str, words: _Words, figures: Figures) -> str:
    file, text = content.file("ratings"), words.text
    rows = []
    for index in _rows_of(content, "ratings", code):
        assert file is not None
        row = file.rows[index]
        rows.append(
            "<tr>"
            + _td(words.topic(row.topic))
            + _td(words.code(row.track))
            + figures.cell(file, index, "respondents")
            + figures.cell(file, index, "score")
            + figures.span_cell(file, index, "ci_low", "ci_high")
            + figures.cell(file, index, "satisfied_share")
            + figures.span_cell(file, index, "rank_low", "rank_high")
            + _td(words.code(row.group))
            + "</tr>"
        )
    headings = [
        text["topic"],
        text["track"],
        text["respondents"],
        text["score"],
        text["interval"],
        text["share"],
        text["rank"],
        text["group"],
    ]
    return _section(text["topics"], headings, rows)


def _change(content: SiteContent, code: str, words: _Words, figures: Figures) -> str:
    file, text = content.file("change"), words.text
    rows = []
    for index in _rows_of(content, "change", code):
        assert file is not None
        row = file.rows[index]
        figures_or_not = (
            figures.cell(file, index, "change")
            + figures.span_cell(file, index, "change_low", "change_high")
            if row.comparable
            else f'<td colspan="2">{esc(text["not_comparable"])}</td>'
        )
        rows.append(
            "<tr>"
            + _td(words.topic(row.topic))
            + _td(words.code(row.track))
            + figures.cell(file, index, "score_before")
            + figures.cell(file, index, "score")
            + figures_or_not
            + _td(words.code(row.verdict))
            + "</tr>"
        )
    headings = [
        text["topic"],
        text["track"],
        text["before"],
        text["now"],
        text["change"],
        text["interval"],
        text["verdict"],
    ]
    heading = text["change_heading"].format(wave=content.against_wave_id)
    return _section(heading, headings, rows)


def _municipalities(content: SiteContent, code: str, words: _Words, figures: Figures) -> str:
    file, text = content.file("ratings", "municipality"), words.text
    rows = []
    for index in _rows_of(content, "ratings", code, "municipality"):
        assert file is not None
        row = file.rows[index]
        if row.track != "all" or row.topic != OVERALL:
            continue
        rows.append(
            "<tr>"
            + _td(words.municipality(code, row.municipality_code))
            + figures.cell(file, index, "respondents")
            + figures.cell(file, index, "score")
            + figures.span_cell(file, index, "ci_low", "ci_high")
            + figures.span_cell(file, index, "rank_low", "rank_high")
            + "</tr>"
        )
    headings = [
        text["municipality"],
        text["respondents"],
        text["score"],
        text["interval"],
        text["rank"],
    ]
    return _section(text["municipalities"], headings, rows)


def _groups(content: SiteContent, code: str, words: _Words, figures: Figures) -> str:
    file, text = content.file("segments"), words.text
    rows = []
    for index in _rows_of(content, "segments", code):
        assert file is not None
        row = file.rows[index]
        if row.track != "all" or (not row.respondents and not row.suppressed):
            continue
        rows.append(
            "<tr>"
            + _td(words.code(row.segment))
            + _td(words.topic(row.topic))
            + figures.cell(file, index, "respondents")
            + figures.cell(file, index, "score")
            + figures.cell(file, index, "rest_score")
            + figures.cell(file, index, "gap")
            + figures.span_cell(file, index, "gap_low", "gap_high")
            + _td(words.code(row.verdict))
            + "</tr>"
        )
    headings = [
        text["segment"],
        text["topic"],
        text["respondents"],
        text["score"],
        text["rest"],
        text["gap"],
        text["interval"],
        text["verdict"],
    ]
    return _section(text["groups"], headings, rows)


def _situations(content: SiteContent, code: str, words: _Words, figures: Figures) -> str:
    file, text = content.file("situations"), words.text
    rows = []
    for index in _rows_of(content, "situations", code):
        assert file is not None
        row = file.rows[index]
        numeric = row.measure not in ("score", "got_needed")
        low, high = ("q1", "q3") if numeric else ("low", "high")
        rows.append(
            "<tr>"
            + _td(words.situation(row.situation))
            + _td(words.measure(row.measure, row.unit))
            + figures.cell(file, index, "respondents")
            + figures.cell(file, index, "value")
            + figures.span_cell(file, index, low, high)
            + figures.cell(file, index, "value_before")
            + figures.cell(file, index, "change")
            + "</tr>"
        )
    headings = [
        text["situation"],
        text["measure"],
        text["respondents"],
        text["value"],
        text["quartiles"],
        text["before"],
        text["change"],
    ]
    return _section(text["situations"], headings, rows)


def _actions(actions: Sequence[Action], code: str, words: _Words) -> str:
    text = words.text
    heading = f"<h2>{esc(text['actions'])}</h2>"
    if not actions:
        return heading + f'<p class="note">{esc(text["no_actions"])}</p>'
    return (
        heading
        + '<ul class="actions">'
        + "".join(_action(a, code, words) for a in actions)
        + "</ul>"
    )


def _action(action: Action, code: str, words: _Words) -> str:
    """One action: every field is staff's typed text, escaped; the link only if https."""
    language, text = words.language, words.text
    facts = [words.code(action.status)]
    if action.since:
        facts.append(text["since"].format(date=action.since.isoformat()))
    if action.municipality_code:
        facts.append(words.municipality(code, action.municipality_code))
    if action.topic:
        facts.append(words.topic(action.topic))
    if action.situation:
        facts.append(words.situation(action.situation))
    description = action.description(language)
    link = action.link if action.link and action.link.startswith(_HTTPS) else None
    return (
        f"<li><strong>{esc(action.title(language))}</strong>"
        f'<br><span class="note">{esc(" · ".join(facts))}</span>'
        + (f"<br>{esc(description)}" if description else "")
        + (
            f'<br><a href="{esc(link)}" rel="nofollow noopener noreferrer">{esc(text["more"])}</a>'
            if link
            else ""
        )
        + "</li>"
    )


# How to read ------------------------------------------------------------------------------


def how_to_read_page(content: SiteContent, language: str) -> str:
    words = _Words(content, language)
    root = _root(language, 0)
    body = "".join(
        f"<h2>{esc(heading)}</h2><p>{esc(paragraph)}</p>"
        for heading, paragraph in HOW_TO_READ[language]
    )
    return page(
        language,
        words.text["how"],
        body,
        root=root,
        other=_other(language, "how-to-read.html", root),
        heading=words.heading(),
    )
