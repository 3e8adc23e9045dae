"""The public results site: published from two closed waves, read back file by file and in
a real headless Chromium.

Every figure a page shows names the file, row and column it comes from (`data-figure`);
the test reads the CSV files published beside the pages and checks each figure is that
cell, in the page language's decimal mark, and that no other number stands in a table.
Suppressed rows read "too few answers". Nothing about a person — a pseudonym, a free-text
answer, a Telegram id — may appear anywhere in the folder. In the browser, at a phone's
390 px and a desktop's 1280 px: nothing sticks out sideways, both maps have alt texts, the
body text meets WCAG AA contrast, the table sorts, an action titled with a script shows as
text, and no request leaves the folder.
"""

from __future__ import annotations

import asyncio
import csv
import io
import os
import re
import signal
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from playwright.async_api import Browser, ViewportSize, async_playwright

from bot.cli.main import build_parser
from bot.settings import Settings
from bot.waves.site_publishing import SitePublisher
from storage.backend import Backend
from storage.connect import open_database
from storage.database import Database
from storage.repositories.actions import ActionRepository
from storage.repositories.waves import WaveRepository
from storage.result_files import write_answers_csv
from storage.site import SiteError, publish_site, write_site
from surveys.actions import ActionDraft
from surveys.regions import load_catalog
from tests import test_situations_export as situations_test
from tests.commands import pass_settings
from tests.harness import database_environment
from tests.test_aggregate import MIN_CELL, PEOPLE, Person, add_results_wave
from tests.test_browser import ARTIFACTS, CHROMIUM_ARGS, find_chromium

ROOT = Path(__file__).resolve().parents[1]
SCRIPT_TITLE = "<script>alert(1)</script>"
#: Alone in their municipality: its row is suppressed.
LONE = Person("L1", "49", "49603000", "45-54", {"clinic": 4, "school": "good"})
#: The earlier wave: the same people, the clinic answered the other way round.
EARLIER = tuple(
    replace(p, answers={**p.answers, "clinic": 6 - int(p.answers["clinic"])}) for p in PEOPLE
)  # type: ignore[call-overload]
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=800)


@dataclass
class Site:
    database: Backend
    wave_id: int
    directory: Path


def _settings(tmp_path: Path) -> Settings:
    """What `civicpulse export` and `publish` are given: this pass's database (in the
    test's data/ on SQLite)."""
    return pass_settings(tmp_path / "data", min_cell_size=MIN_CELL)


@pytest.fixture
async def site(tmp_path: Path, bot_database_pass: str) -> AsyncIterator[Site]:
    """Two closed waves and two actions in this pass's database, and the later wave's site."""
    database = await open_database(_settings(tmp_path))
    try:
        waves = WaveRepository(database)
        first = await add_results_wave(database, EARLIER, datetime(2026, 10, 1, tzinfo=UTC))
        second = await add_results_wave(database, (*PEOPLE, LONE))
        for wave in (first, second):
            await waves.transition(wave.wave_id, ("scheduled",), "closed")
        actions = ActionRepository(database)
        await actions.add(
            ActionDraft(
                region_code="49",
                title_ru=SCRIPT_TITLE,
                topic="health",
                description_ru='Запись & "очередь" <b>онлайн</b>',
                status="in_progress",
                link="https://example.org/plan?a=1&b=2",
            ),
            by="test",
        )
        await actions.add(
            ActionDraft(region_code="49", municipality_code="49603000", title_ru="Новая школа"),
            by="test",
        )
        directory = tmp_path / "site"
        await publish_site(
            database, second.wave_id, directory, min_cell_size=MIN_CELL, catalog=load_catalog()
        )
        yield Site(database, second.wave_id, directory)
    finally:
        await database.close()


# Reading the site back ----------------------------------------------------------------------


class _Page(HTMLParser):
    """A page's figures (`data-figure` and text), the text of each table cell outside
    them, and the `<img>` tags."""

    def __init__(self) -> None:
        super().__init__()
        self.figures: list[tuple[str, str]] = []
        #: Each table cell's text outside its figures, and whether it is a cell of figures.
        self.cell_texts: list[tuple[str, bool]] = []
        self.images: list[dict[str, str | None]] = []
        self._figure: str | None = None
        self._figure_text = ""
        self._cell: list[str] | None = None
        self._numeric = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "td":
            self._cell, self._numeric = [], found.get("class") == "n"
        elif tag == "img":
            self.images.append(found)
        elif tag == "span" and found.get("data-figure"):
            self._figure, self._figure_text = found["data-figure"], ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "span" and self._figure is not None:
            self.figures.append((self._figure, self._figure_text))
            self._figure = None
        elif tag == "td" and self._cell is not None:
            self.cell_texts.append(("".join(self._cell), self._numeric))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._figure is not None:
            self._figure_text += data
        elif self._cell is not None:
            self._cell.append(data)


def _read(path: Path) -> _Page:
    parsed = _Page()
    parsed.feed(path.read_text(encoding="utf-8"))
    return parsed


def published_files(directory: Path) -> dict[str, list[dict[str, str]]]:
    return {
        path.name: list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        for path in (directory / "data").glob("*.csv")
    }


def _pages(directory: Path) -> list[Path]:
    return sorted(directory.rglob("*.html"))


async def test_every_figure_is_the_files_cell(site: Site) -> None:
    assert set(published_files(site.directory)) == {
        f"{kind}-{level}.csv"
        for kind in ("ratings", "change", "segments")
        for level in ("region", "municipality")
    }
    assert checked_figures(site.directory) > 200


async def test_situations_are_published_from_their_file(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "situations.db")
    try:
        wave_id = await situations_test._wave(
            database, situations_test._survey(1), situations_test.LATER, 2000
        )
        directory = tmp_path / "site"
        await publish_site(
            database, wave_id, directory, min_cell_size=MIN_CELL, catalog=load_catalog()
        )
    finally:
        await database.close()
    assert "situations-region.csv" in published_files(directory)
    assert "Поиск работы" in (directory / "regions" / "49.html").read_text(encoding="utf-8")
    assert checked_figures(directory) > 20


def checked_figures(directory: Path) -> int:
    """Checks every figure of every page against its file; returns how many there were."""
    files = published_files(directory)
    checked = 0
    for path in _pages(directory):
        decimal = "." if "en" in path.relative_to(directory).parts else ","
        page = _read(path)
        for reference, text in page.figures:
            name, index, column = reference.split(":")
            row = files[name][int(index)]
            assert row["suppressed"] == "0", (path, reference)
            assert text == row[column].replace(".", decimal), (path, reference)
            checked += 1
        for text, numeric in page.cell_texts:
            # Names may hold digits ("65 and over"); a figure never stands outside its span.
            assert not re.search(r"\d" if numeric else r"\d[.,]\d", text), (path, text)
    return checked


async def test_the_files_are_those_of_export(site: Site, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    for what, name in (("ratings", "ratings"), ("segments", "segments")):
        for level in ("region", "municipality"):
            output = tmp_path / f"{what}-{level}.csv"
            argv = [
                "export",
                what,
                "--wave",
                str(site.wave_id),
                "--level",
                level,
                "-o",
                str(output),
            ]
            args = build_parser().parse_args(argv)
            assert await args.handler(args, settings) == 0
            published = site.directory / "data" / f"{name}-{level}.csv"
            assert published.read_bytes() == output.read_bytes()


async def test_suppressed_cells_read_too_few_answers(site: Site) -> None:
    municipalities = published_files(site.directory)["ratings-municipality.csv"]
    lone = [
        row
        for row in municipalities
        if row["municipality_code"] == LONE.municipality and row["topic"] == "overall"
    ]
    assert lone and all(row["suppressed"] == "1" for row in lone)
    for path, words in (
        (site.directory / "regions" / "49.html", "слишком мало ответов"),
        (site.directory / "en" / "regions" / "49.html", "too few answers"),
    ):
        text = path.read_text(encoding="utf-8")
        name = "Батецкий" if "en" not in path.parts else "Batetsky"
        row = re.search(rf"<tr><td>{name}[^<]*</td>(.*?)</tr>", text)
        assert row is not None, path
        assert words in row.group(1)
        assert not re.search(r">[^<]*\d", row.group(1))


async def test_nothing_about_a_person_is_published(site: Site) -> None:
    answers = io.BytesIO()
    await write_answers_csv(site.database, site.wave_id, answers, key=b"k" * 32)
    rows = list(csv.DictReader(io.StringIO(answers.getvalue().decode(), newline="")))
    pseudonyms = {row["respondent"] for row in rows}
    free_text = {person.answers["comment"] for person in PEOPLE if "comment" in person.answers}
    published = "\n".join(
        path.read_bytes().decode("utf-8") for path in site.directory.rglob("*") if path.is_file()
    )
    for secret in (*pseudonyms, *free_text):
        assert str(secret).strip() not in published
    telegram_ids = range(1000, 1000 + len(PEOPLE) + 2)
    assert not any(re.search(rf"(?<![\d.]){tid}(?![\d.])", published) for tid in telegram_ids)
    assert not list(site.directory.rglob("*answers*"))


async def test_the_front_page_maps_by_score_and_by_change(site: Site) -> None:
    against = await WaveRepository(site.database).previous_closed(site.wave_id)
    assert against is not None
    for prefix, words in (("", "изменение общего балла"), ("en/", "change in the overall")):
        images = _read(site.directory / prefix / "index.html").images
        assert [image["src"] for image in images] == ["map.svg", "map-change.svg"]
        alt = images[1]["alt"] or ""
        assert words in alt and str(against.id) in alt
        change_map = (site.directory / prefix / "map-change.svg").read_text(encoding="utf-8")
        assert 'id="region-49"' in change_map and "−20" in change_map


async def test_a_first_wave_has_no_change_map(site: Site, tmp_path: Path) -> None:
    first = await WaveRepository(site.database).previous_closed(site.wave_id)
    assert first is not None
    directory = tmp_path / "first"
    await publish_site(
        site.database, first.id, directory, min_cell_size=MIN_CELL, catalog=load_catalog()
    )
    for prefix in ("", "en/"):
        images = _read(directory / prefix / "index.html").images
        assert [image["src"] for image in images] == ["map.svg"]
    assert not list(directory.rglob("map-change.svg"))


async def test_action_text_is_escaped(site: Site) -> None:
    text = (site.directory / "regions" / "49.html").read_text(encoding="utf-8")
    assert SCRIPT_TITLE not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "&lt;b&gt;онлайн&lt;/b&gt;" in text
    assert 'href="https://example.org/plan?a=1&amp;b=2"' in text


# The folder -----------------------------------------------------------------------------


async def test_a_folder_of_something_else_is_never_replaced(tmp_path: Path) -> None:
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("keep")
    with pytest.raises(SiteError, match="not a site published before"):
        write_site({"index.html": b"x"}, folder)
    assert (folder / "notes.txt").read_text() == "keep"


async def test_publishing_again_replaces_the_site_whole(site: Site) -> None:
    (site.directory / "stale.html").write_text("old")
    await publish_site(
        site.database, site.wave_id, site.directory, min_cell_size=MIN_CELL, catalog=load_catalog()
    )
    assert not (site.directory / "stale.html").exists()
    assert (site.directory / "index.html").stat().st_mode & 0o777 == 0o644
    assert [p.name for p in site.directory.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize(
    "wave,output,message",
    [
        ("42", "out", "there is no wave 42"),
        ("open", "out", "only a closed wave is published"),
        ("closed", "missing/out", "No such file or directory"),
        ("closed", "file.txt/out", "Not a directory"),
    ],
)
async def test_cli_refusals(
    site: Site,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    wave: str,
    output: str,
    message: str,
) -> None:
    (tmp_path / "file.txt").write_text("a file, not a folder")
    if wave == "open":
        opened = await add_results_wave(site.database, PEOPLE, datetime(2026, 12, 1, tzinfo=UTC))
        await WaveRepository(site.database).transition(opened.wave_id, ("scheduled",), "open")
        wave = str(opened.wave_id)
    elif wave == "closed":
        wave = str(site.wave_id)
    args = build_parser().parse_args(["publish", "--wave", wave, "-o", str(tmp_path / output)])
    assert await args.handler(args, _settings(tmp_path)) == 1
    error = capsys.readouterr().err
    assert error.startswith("civicpulse: publish failed:") and message in error
    assert not (tmp_path / output).exists()


async def test_serve_previews_on_localhost(site: Site, tmp_path: Path) -> None:
    hidden = ("DATABASE_PATH", "DATABASE_URL", "PSEUDONYM_KEY")
    environment = {
        **{name: value for name, value in os.environ.items() if name not in hidden},
        **database_environment(tmp_path / "data"),
        "MIN_CELL_SIZE": str(MIN_CELL),
    }
    argv = ["publish", "--wave", str(site.wave_id), "-o", str(tmp_path / "preview")]
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli.main", *argv, "--serve", "--port", "0"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        published = await asyncio.to_thread(process.stdout.readline)
        assert published.startswith("published wave")
        serving = await asyncio.to_thread(process.stdout.readline)
        url = re.search(r"http://127\.0\.0\.1:\d+/", serving)
        assert url is not None, serving
        page = await asyncio.to_thread(
            lambda: urllib.request.urlopen(url.group(), timeout=10).read()
        )
        assert b'<html lang="ru">' in page
        process.send_signal(signal.SIGINT)
        assert await asyncio.to_thread(process.wait, 20) == 130
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


# In the browser ------------------------------------------------------------------------------

#: Elements that hold text of their own, with their colour and the first opaque background
#: behind them, as the WCAG formula reads them.
CONTRASTS = """() => {
    const rgb = (text) => text.match(/[\\d.]+/g).map(Number);
    const luminance = ([r, g, b]) => {
        const c = [r, g, b].map((v) => {
            v /= 255;
            return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    };
    const background = (node) => {
        for (; node; node = node.parentElement) {
            const colour = rgb(getComputedStyle(node).backgroundColor);
            if (colour.length < 4 || colour[3] > 0) return colour;
        }
        return [255, 255, 255];
    };
    const found = [];
    for (const node of document.body.querySelectorAll("*")) {
        const own = [...node.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim());
        if (!own || node.closest("script, style")) continue;
        const a = luminance(rgb(getComputedStyle(node).color)), b = luminance(background(node));
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        found.push([node.tagName + ":" + node.textContent.trim().slice(0, 30), ratio]);
    }
    return found;
}"""
SHOWN_FIGURES = """() => [...document.querySelectorAll("[data-figure]")]
    .map((figure) => [figure.dataset.figure, figure.textContent])"""
SORTED_SCORES = """() => [...document.querySelectorAll("table.sortable tbody tr")]
    .map((row) => row.cells[2].dataset.sort).filter((key) => key !== "").map(Number)"""


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = find_chromium()
    if executable is None:
        if os.environ.get("CI"):
            pytest.fail("no Chromium installed in CI")
        pytest.skip("no Chromium installed (apt-get install chromium)")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_the_site_in_chromium(site: Site, browser: Browser, viewport: ViewportSize) -> None:
    context = await browser.new_context(viewport=viewport)
    page = await context.new_page()
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    files = published_files(site.directory)
    try:
        for relative in (
            "index.html",
            "en/index.html",
            "regions/49.html",
            "en/regions/49.html",
            "how-to-read.html",
        ):
            await page.goto((site.directory / relative).as_uri())
            width = await page.evaluate("() => document.scrollingElement.scrollWidth")
            assert width <= viewport["width"], (relative, width)
            for tag, ratio in await page.evaluate(CONTRASTS):
                assert ratio >= 4.5, (relative, tag, ratio)
            images = await page.evaluate(
                "() => [...document.images].map((i) => [i.alt, i.complete && i.naturalWidth > 0])"
            )
            assert all(alt.strip() and shown for alt, shown in images), images
            for reference, text in await page.evaluate(SHOWN_FIGURES):
                name, index, column = reference.split(":")
                expected = files[name][int(index)][column]
                assert text.replace(",", ".") == expected, (relative, reference)
        await page.goto((site.directory / "index.html").as_uri())
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=ARTIFACTS / f"site-{viewport['width']}.png", full_page=True)
        assert len(await page.evaluate("() => document.images")) == 2  # by score, by change
        heading = page.locator("table.sortable th button").nth(2)
        await heading.click()
        ascending = await page.evaluate(SORTED_SCORES)
        assert ascending == sorted(ascending) and len(ascending) > 1
        await heading.click()
        assert await page.evaluate(SORTED_SCORES) == sorted(ascending, reverse=True)
        await page.get_by_role("link", name="Новгородская область").click()
        title = page.get_by_text(SCRIPT_TITLE, exact=True)
        assert await title.is_visible()
        assert dialogs == []
        assert all(url.startswith("file://") for url in requests), requests
    finally:
        await context.close()


async def test_a_closing_wave_publishes_its_site(
    site: Site, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    published = tmp_path / "public"
    publisher = SitePublisher(
        site.database, published, min_cell_size=MIN_CELL, catalog=load_catalog(), zone=UTC
    )
    wave = await WaveRepository(site.database).get(site.wave_id)
    assert wave is not None
    await publisher.on_close(wave)
    await publisher.stop()
    assert (published / "index.html").is_file()
    # A failure is logged, not raised, and the site stays as it was.
    await publisher.on_close(replace(wave, id=42))
    await publisher.stop()
    assert "publishing wave 42's site" in caplog.text
    assert (published / "index.html").is_file()
