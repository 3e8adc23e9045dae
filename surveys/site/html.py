"""The pieces every page is built of: the page itself, its style and sorting script, and
one figure of a file written as the file writes it.

Everything that comes from outside (names, actions' titles and descriptions, links) goes
through `esc`; markup is only ever made here and in `pages`, from constants.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from surveys.export import CellFormat, CsvFormat
from surveys.site.content import DataFile
from surveys.site.texts import DECIMAL_MARK, TEXTS

#: Body text #1b1b1b on white is 17:1, notes #4a4a4a 8.9:1 and links #0b57d0 6.4:1: all
#: above WCAG AA's 4.5:1. Wide tables scroll inside their box, never the page.
STYLE = """
*{box-sizing:border-box}
body{margin:0;font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans",sans-serif;
color:#1b1b1b;background:#fff}
header,main,footer{max-width:72rem;margin:0 auto;padding:0 1rem}
header{border-bottom:1px solid #c8c8c8;padding-bottom:.5rem}
footer{border-top:1px solid #c8c8c8;margin-top:2rem;padding-bottom:2rem}
h1{font-size:1.6rem;line-height:1.25}
h2{font-size:1.3rem;margin-top:2rem}
a{color:#0b57d0}
:focus-visible{outline:3px solid #0b57d0;outline-offset:2px}
nav ul{list-style:none;padding:0;margin:.5rem 0;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem}
.note,.too-few{color:#4a4a4a}
.too-few{font-style:italic}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%}
th,td{padding:.4rem .6rem;border-bottom:1px solid #c8c8c8;text-align:left;vertical-align:top}
td.n{text-align:right;white-space:nowrap}
th button{font:inherit;font-weight:700;color:#0b57d0;background:none;border:0;padding:0;
cursor:pointer;text-align:left}
th[aria-sort=ascending] button::after{content:" ▲"}
th[aria-sort=descending] button::after{content:" ▼"}
figure{margin:1rem 0}
img{max-width:100%;height:auto}
.actions{padding-left:1.2rem;overflow-wrap:anywhere}
.actions li{margin-bottom:1rem}
p,li{overflow-wrap:break-word}
"""

#: Turns the headings of `table.sortable` into buttons. Without script the table reads
#: the same, in its published order: the buttons only appear where they work.
SORT_SCRIPT = """
document.querySelectorAll("table.sortable").forEach((table) => {
  const heads = [...table.tHead.rows[0].cells];
  const language = document.documentElement.lang;
  heads.forEach((th, column) => {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = th.textContent;
    th.textContent = "";
    th.append(button);
    button.addEventListener("click", () => {
      const ascending = th.getAttribute("aria-sort") !== "ascending";
      heads.forEach((other) => other.removeAttribute("aria-sort"));
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      const key = (row) => row.cells[column].dataset.sort ?? row.cells[column].textContent;
      const order = (a, b) => {
        const x = key(a), y = key(b);
        if (x === y) return 0;
        if (x === "") return 1;
        if (y === "") return -1;
        const n = Number(x) - Number(y);
        const r = Number.isNaN(n) ? x.localeCompare(y, language) : n;
        return ascending ? r : -r;
      };
      const body = table.tBodies[0];
      body.append(...[...body.rows].sort(order));
    });
  });
});
"""


def esc(text: object) -> str:
    """Text as HTML, quotes included, so it is safe in an element and in an attribute."""
    return html.escape(str(text), quote=True)


def page(language: str, title: str, body: str, *, root: str, other: str, heading: str = "") -> str:
    """A whole page: `root` leads back to the site's root ("", "../"), `other` is the same
    page in the other language, and `heading` the line under the title."""
    words = TEXTS[language]
    home = f"{root}index.html" if language == "ru" else f"{root}en/index.html"
    how = f"{root}how-to-read.html" if language == "ru" else f"{root}en/how-to-read.html"
    other_language = "en" if language == "ru" else "ru"
    return (
        f'<!doctype html>\n<html lang="{language}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header>\n<h1>{esc(title)}</h1>\n"
        + (f'<p class="note">{esc(heading)}</p>\n' if heading else "")
        + f'<nav aria-label="{esc(words["site"])}"><ul>'
        f'<li><a href="{home}">{esc(words["home"])}</a></li>'
        f'<li><a href="{how}">{esc(words["how"])}</a></li>'
        f'<li><a href="{home}#data">{esc(words["data"])}</a></li>'
        f'<li><a href="{esc(other)}" hreflang="{other_language}" lang="{other_language}">'
        f"{esc(words['other_language'])}</a></li>"
        f"</ul></nav>\n</header>\n<main>\n{body}\n</main>\n"
        f'<footer><p class="note">{esc(heading)}</p></footer>\n'
        f"<script>{SORT_SCRIPT}</script>\n</body>\n</html>\n"
    )


def table(
    headings: Sequence[str], rows: Iterable[str], *, caption: str = "", sortable: bool = False
) -> str:
    """A table in a box that scrolls sideways on a narrow screen, named by `caption` for
    screen readers (the heading above it names it for the eye); `rows` are `<tr>`s."""
    head = "".join(f'<th scope="col">{esc(text)}</th>' for text in headings)
    kind = ' class="sortable"' if sortable else ""
    return (
        f'<div class="scroll" role="region" tabindex="0" aria-label="{esc(caption)}">'
        f"<table{kind}>"
        + f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"
    )


class Figures:
    """Cells of the open-data files as a reader of `language` sees them: the file's own
    formatter with the language's decimal mark, and "too few answers" where the file's row
    is suppressed. Each figure names its file, row and column (`data-figure`), so that
    anyone, a test included, can check it against the file."""

    def __init__(self, language: str) -> None:
        self._words = TEXTS[language]
        self._shown = CellFormat(
            CsvFormat(delimiter=",", bom=False, decimal=DECIMAL_MARK[language])
        )
        self._machine = CellFormat(CsvFormat(delimiter=",", bom=False, decimal="."))

    def missing(self, file: DataFile, index: int) -> str:
        """What stands where a row has no figure: withheld, or not applicable."""
        if file.rows[index].suppressed:
            return f'<span class="too-few">{esc(self._words["too_few"])}</span>'
        return "—"

    def one(self, file: DataFile, index: int, column: str) -> str:
        row = file.rows[index]
        value = getattr(row, column)
        if value is None:
            return self.missing(file, index)
        text = self._shown(value, file.writer.row_decimals(row).get(column))
        return f'<span data-figure="{esc(file.name)}:{index}:{column}">{esc(text)}</span>'

    def span(self, file: DataFile, index: int, low: str, high: str) -> str:
        """An interval, `low–high`; one mark for both ends when the row has neither."""
        row = file.rows[index]
        if getattr(row, low) is None and getattr(row, high) is None:
            return self.missing(file, index)
        return f"{self.one(file, index, low)}–{self.one(file, index, high)}"

    def sort_key(self, file: DataFile, index: int, column: str) -> str:
        """The figure as the file writes it, for the table's script to sort by."""
        row = file.rows[index]
        value = getattr(row, column)
        digits = file.writer.row_decimals(row).get(column)
        return "" if value is None else self._machine(value, digits)

    def cell(self, file: DataFile, index: int, column: str) -> str:
        """A `<td>` of one figure, sortable by its value."""
        key = esc(self.sort_key(file, index, column))
        return f'<td class="n" data-sort="{key}">{self.one(file, index, column)}</td>'

    def span_cell(self, file: DataFile, index: int, low: str, high: str) -> str:
        key = esc(self.sort_key(file, index, low))
        return f'<td class="n" data-sort="{key}">{self.span(file, index, low, high)}</td>'
