"""The README and the pages in docs/ hold together: every link lands, the README stays short.

The README is the page a newcomer reads; the reference lives in docs/, one page per
reader's task, and the pages point at each other by file and heading. A renamed heading or
a moved file breaks such a link silently: GitHub renders a dead link without complaint,
and the reader is the one who finds out. Checked here, a broken link fails with the page,
line and link that broke. Anchors follow GitHub's rule for heading ids, so a link that
passes here also lands on GitHub.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: The README must stay a page one reads to the end; reference belongs in docs/.
README_MAX_LINES = 250

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_INLINE_CODE = re.compile(r"(`+).+?\1")
_LINK = re.compile(r"!?\[(?P<text>[^\]]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")
_HEADING = re.compile(r"^ {0,3}#{1,6}\s+(?P<title>.+?)\s*#*\s*$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")  # https:, mailto:, … leave this repository


@dataclass(frozen=True, slots=True)
class Link:
    """One `[text](target)` or `![text](target)` as written on a page."""

    page: Path
    line: int
    text: str
    target: str
    root: Path = ROOT

    def __str__(self) -> str:
        where = self.page.relative_to(self.root).as_posix()
        return f"{where}:{self.line}: [{self.text}]({self.target})"


def documentation_pages(root: Path = ROOT) -> list[Path]:
    """The README and every page in docs/: the set of pages that link to each other."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def prose_lines(path: Path) -> Iterator[tuple[int, str]]:
    """Lines outside fenced code blocks, with their numbers: a `# comment` in a shell
    example is not a heading, and `[a](b)` in a code sample is not a link."""
    fence = ""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        match = _FENCE.match(line)
        if fence:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = ""
            continue
        if match:
            fence = match.group(1)
            continue
        yield number, line


def slug(title: str) -> str:
    """A heading's id as GitHub makes it: the text (a link counts by its text), lowercase,
    without punctuation except `-` (letters, digits and `_` stay), spaces turned to `-`."""
    text = _LINK.sub(lambda match: match["text"], title).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading id of a page; a repeated heading gets `-1`, `-2`, … as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for _, line in prose_lines(path):
        match = _HEADING.match(line)
        if not match:
            continue
        base = slug(match["title"])
        count = seen.get(base, 0)
        seen[base] = count + 1
        found.add(base if count == 0 else f"{base}-{count}")
    return found


def links(path: Path, root: Path = ROOT) -> Iterator[Link]:
    """The links of a page that point inside the repository (web addresses are skipped:
    checking them would need the network, which the tests never use)."""
    for number, line in prose_lines(path):
        for match in _LINK.finditer(_INLINE_CODE.sub("", line)):
            if not _SCHEME.match(match["target"]):
                yield Link(path, number, match["text"], match["target"], root)


def problem(link: Link) -> str | None:
    """Why a link leads nowhere, or None if it lands on a file (and heading) that exist."""
    address, _, anchor = link.target.partition("#")
    target = (link.page.parent / unquote(address)).resolve() if address else link.page
    if not target.exists():
        return f"{link}: no file {unquote(address)!r}"
    if anchor and target.suffix == ".md" and unquote(anchor) not in anchors(target):
        return f"{link}: no heading {anchor!r} in {target.name}"
    return None


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """Every link of `page` that leads nowhere, each named with its page, line and target."""
    return [found for link in links(page, root) if (found := problem(link)) is not None]


@pytest.mark.parametrize(
    "page", documentation_pages(), ids=lambda page: page.relative_to(ROOT).as_posix()
)
def test_every_link_lands_on_a_file_and_heading_that_exist(page: Path) -> None:
    """One test per page, so that a failure names the page before its broken links."""
    assert broken_links(page) == []


def test_the_readme_stays_short() -> None:
    """Reference creeps back into the README one useful paragraph at a time; the limit
    makes the next paragraph go where its readers look for it."""
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, (
        f"README.md has {lines} lines (at most {README_MAX_LINES}): move reference to docs/"
    )


def test_every_docs_page_is_listed_in_the_readme_and_says_who_it_is_for() -> None:
    """A page the README does not list is a page nobody finds; a page that does not say
    whom it serves is read by the wrong people, or by nobody."""
    readme = ROOT / "README.md"
    listed = {(readme.parent / link.target.partition("#")[0]).resolve() for link in links(readme)}
    for page in documentation_pages()[1:]:
        assert page.resolve() in listed, f"README.md does not link to docs/{page.name}"
        first_paragraph = page.read_text(encoding="utf-8").split("\n\n")[1]
        assert first_paragraph.startswith("*For: "), f"docs/{page.name} does not say who it is for"


def test_a_broken_link_is_named_with_its_page_and_line(tmp_path: Path) -> None:
    """The checker itself: dead files and headings are found, live ones and code are not."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "waves.md").write_text(
        "# Waves\n\n## The delivery guarantee\n\n## Flood control: `THROTTLE_RATE`\n",
        encoding="utf-8",
    )
    (tmp_path / "README.md").write_text(
        "# Title\n\n"
        "[ok](docs/waves.md#the-delivery-guarantee) and [ok](docs/waves.md)\n"
        "[ok](docs/waves.md#flood-control-throttle_rate) [web](https://example.org/x)\n"
        "[gone](docs/moved.md) ![gone](docs/images/none.png)\n"
        "[wrong heading](docs/waves.md#delivery-guarantee) [here](#title) [not here](#nope)\n"
        "`[code](nowhere.md)` [fenced](#not-a-heading)\n"
        "```\n[code](nowhere.md)\n# not a heading\n```\n",
        encoding="utf-8",
    )

    found = broken_links(tmp_path / "README.md", tmp_path)

    assert found == [
        "README.md:5: [gone](docs/moved.md): no file 'docs/moved.md'",
        "README.md:5: [gone](docs/images/none.png): no file 'docs/images/none.png'",
        "README.md:6: [wrong heading](docs/waves.md#delivery-guarantee): "
        "no heading 'delivery-guarantee' in waves.md",
        "README.md:6: [not here](#nope): no heading 'nope' in README.md",
        "README.md:7: [fenced](#not-a-heading): no heading 'not-a-heading' in README.md",
    ]


@pytest.mark.parametrize(
    "title,expected",
    [
        ("Sending: Telegram's limits", "sending-telegrams-limits"),
        ("Weighting by age (`--weights`)", "weighting-by-age---weights"),
        (
            "Flood control: `THROTTLE_RATE`, `THROTTLE_BURST`",
            "flood-control-throttle_rate-throttle_burst",
        ),
        ("Что остаётся после удаления", "что-остаётся-после-удаления"),
    ],
)
def test_heading_ids_follow_github(title: str, expected: str) -> None:
    """The ids GitHub gives these headings (punctuation, code spans, Cyrillic): a link
    checked against another rule would pass here and land nowhere there."""
    assert slug(title) == expected
