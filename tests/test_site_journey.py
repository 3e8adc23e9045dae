"""End to end, from the chat to the public site: citizens answer two pulse waves through
the real bot, a regional member adds an action in the admin chat and a member of another
region is refused, the site is published with `civicpulse publish`, and read back in
Chromium.

The page's figures must be the published files' cells, the action titled with a script must
read as text, and a municipality where one person answered must say "слишком мало ответов"
and show no number.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Browser

from bot.cli.main import build_parser
from bot.sandbox.fake_telegram import FakeTelegram
from tests.harness import Citizen, add_respondents
from tests.test_actions import add_action_in_chat, refused_in_chat
from tests.test_results_change import ELSEWHERE, FIRST, SECOND, closed_pulse
from tests.test_site import (
    SCRIPT_TITLE,
    SHOWN_FIGURES,
    browser,  # noqa: F401 (the fixture)
    checked_figures,
    published_files,
)
from tests.test_staff_chat import NORTH, URALS, grant, staff_bot

MIN_CELL = 2
#: Veliky Novgorod and two districts of region 49.
CITY, BOROVICHI, BATETSKY = "49701000", "49606000", "49603000"
#: Telegram id, region, municipality, age band.
PEOPLE = [
    (6101, "49", CITY, "18-24"),
    (6102, "49", CITY, "45-54"),
    (6103, "49", CITY, "25-30"),
    (6109, "49", CITY, "45-54"),
    (6104, "49", BATETSKY, "45-54"),  # alone in the district: suppressed
    (6107, "49", BOROVICHI, "18-24"),
    (6108, "49", BOROVICHI, "25-30"),
    (6105, "65", None, "18-24"),
    (6106, "65", None, "45-54"),
]
EARLIER = {6101: FIRST, 6102: FIRST, 6103: SECOND, 6104: FIRST, 6105: ELSEWHERE, 6106: FIRST}
EARLIER |= {6107: ELSEWHERE, 6108: SECOND, 6109: ELSEWHERE}
LATER = {6101: SECOND, 6102: SECOND, 6103: FIRST, 6104: SECOND, 6105: SECOND, 6106: ELSEWHERE}
LATER |= {6107: FIRST, 6108: ELSEWHERE, 6109: SECOND}


@pytest.mark.usefixtures("bot_database_pass")
async def test_answers_in_chat_and_actions_reach_the_published_site(
    server: FakeTelegram,
    tmp_path: Path,
    browser: Browser,  # noqa: F811
) -> None:
    site = tmp_path / "site"
    async with staff_bot(server, tmp_path, min_cell_size=MIN_CELL) as (settings, running):
        store = running.app.store
        await add_respondents(running.app, [(tid, region, age) for tid, region, _, age in PEOPLE])
        for telegram_id, _, municipality, _ in PEOPLE:
            await store.respondents.update_profile(telegram_id, municipality_code=municipality)
        earlier = await closed_pulse(server, running, EARLIER)

        await grant(settings, NORTH, "regional", "49,53")
        await grant(settings, URALS, "regional", "65")
        north = Citizen(server, server.user(NORTH, "Анна"))
        screens = await add_action_in_chat(
            north,
            "Новгородская область",
            "Великий Новгород",
            "Здравоохранение",
            SCRIPT_TITLE,
            "идёт работа",
            "https://example.org/clinics",
        )
        assert "Действие #1 сохранено." in (screens["saved"].text or "")
        (action,) = await store.actions.listed()
        assert (action.region_code, action.municipality_code) == ("49", CITY)
        assert action.title_ru == SCRIPT_TITLE

        async def actions_and_their_audit() -> tuple[object, ...]:
            audit = [e for e in await store.audit.entries() if e.action.startswith("action.")]
            return await store.actions.listed(), audit

        before = await actions_and_their_audit()
        await refused_in_chat(Citizen(server, server.user(URALS, "Борис")), action)
        assert await actions_and_their_audit() == before

        later = await closed_pulse(server, running, LATER)
        assert later != earlier
        args = build_parser().parse_args(["publish", "--wave", str(later), "-o", str(site)])
        assert await args.handler(args, settings) == 0

    files = published_files(site)
    batetsky = [r for r in files["ratings-municipality.csv"] if r["municipality_code"] == BATETSKY]
    city = [r for r in files["ratings-municipality.csv"] if r["municipality_code"] == CITY]
    assert batetsky and all(row["suppressed"] == "1" for row in batetsky)
    assert any(row["suppressed"] == "0" for row in city)
    assert [r for r in files["change-region.csv"] if r["suppressed"] == "0"]
    assert checked_figures(site) > 20

    context = await browser.new_context()
    page = await context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: dialogs.append(dialog.message))
    try:
        shown: set[str] = set()
        for relative in ("index.html", "regions/49.html", "en/regions/49.html"):
            await page.goto((site / relative).as_uri())
            for reference, text in await page.evaluate(SHOWN_FIGURES):
                name, index, column = reference.split(":")
                row = files[name][int(index)]
                assert row["suppressed"] == "0", (relative, reference)
                assert text.replace(",", ".") == row[column], (relative, reference)
                shown.add(name)
        assert {"ratings-region.csv", "change-region.csv", "ratings-municipality.csv"} <= shown

        await page.goto((site / "regions" / "49.html").as_uri())
        assert await page.get_by_text(SCRIPT_TITLE, exact=True).is_visible()
        assert dialogs == []
        rows = page.locator("tr")
        district = await rows.filter(has_text="Батецкий").inner_text()
        assert "слишком мало ответов" in district
        assert not re.search(r"\d", district), district
        assert re.search(r"\d", await rows.filter(has_text="Великий Новгород").inner_text())
    finally:
        await context.close()
