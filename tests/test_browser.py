"""The sandbox page in a real browser: headless Chromium driven by Playwright.

The storyline is the one the sandbox exists to show: a citizen registers, the
administrator creates a wave in the admin chat, the invitation appears in the citizen's
chat, the citizen answers the survey and the administrator sees the wave's figures.
Every step waits for what the page shows, never for time to pass. A screenshot of the
finished chat is saved under test-artifacts/ for a person to look at.

The page must also work on a phone: from 360 to 1920 pixels wide nothing sticks out
sideways, the chat and its input stay in the window, and on a narrow screen the personas
are one tap away in a drawer (test-artifacts/sandbox-phone.png and sandbox-desktop.png
show both layouts). Message times are the bot's TIMEZONE, whatever the browser's zone.

The README's picture of the sandbox is taken here too, so that it shows the page as it is
rather than as it was when someone last remembered to update it: with
`CIVICPULSE_SCREENSHOTS=docs/images`, the citizen's chat half-way through the survey is
saved as docs/images/sandbox-chat.png.

Chromium comes from the system's packages (`.ci/run` installs it); Playwright only
drives it, so nothing is downloaded. Without Chromium the test is skipped on a
developer's machine and fails in CI, where its absence would be a broken set-up.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from playwright.async_api import Browser, Locator, Page, ViewportSize, async_playwright, expect

from tests.sandbox_harness import Sandbox, running_sandbox

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
#: Names the folder (relative to the repository) for the documentation's screenshot.
SCREENSHOTS_VARIABLE = "CIVICPULSE_SCREENSHOTS"
DOCS_SCREENSHOT = "sandbox-chat.png"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these Chromium phones home at start-up, which a closed network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STEP_TIMEOUT_MS = 10_000
#: The bot's TIMEZONE and the browser's, half a day apart: a time read in the wrong one shows.
BOT_TIMEZONE = "Asia/Vladivostok"
BROWSER_TIMEZONE = "America/New_York"
PHONE = ViewportSize(width=390, height=844)
DESKTOP = ViewportSize(width=1280, height=800)
#: The narrowest phone and a wide monitor: nothing may stick out sideways at either.
EXTREMES = (ViewportSize(width=360, height=740), ViewportSize(width=1920, height=1080))
#: The page's font stack names these, so labels that start with an emoji are drawn.
EMOJI_FONTS = ("Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji")
#: Debian's colour emoji font, which .ci/run installs beside Chromium.
EMOJI_FONT_PACKAGE = "fonts-noto-color-emoji"
LONG_URL = "https://example.org/" + "survey-results-" * 12 + "wave-1.csv"
LONG_LABELS = (
    "Министерство труда и социальной защиты",
    "Многофункциональный-центр-предоставления-услуг",
    "Пропустить",
)
NEWEST_MESSAGE_ID = """() => Math.max(0, ...[...document.querySelectorAll("#messages .msg")]
    .map((m) => Number(m.dataset.messageId)))"""
IMAGE_SHOWN = """() => [...document.querySelectorAll("#messages img.photo")]
    .some((img) => img.complete && img.naturalWidth > 0)"""
REPLY_AFTER = """([after, text]) => {
    const bots = document.querySelectorAll("#messages .msg.bot");
    const last = bots[bots.length - 1];
    return !!last && Number(last.dataset.messageId) > after && last.textContent.includes(text);
}"""
MESSAGE_TIMES = """() => [...document.querySelectorAll("#messages .msg")]
    .map((m) => [Number(m.dataset.messageId), m.querySelector(".meta time").textContent])"""
#: What does not fit the window: each problem as a sentence, none when the layout holds.
LAYOUT_PROBLEMS = """() => {
    const problems = [];
    const width = innerWidth;
    const page = document.documentElement.scrollWidth;
    if (page > width) problems.push(`the page is ${page}px wide in a ${width}px window`);
    const list = document.querySelector("#messages");
    if (list.scrollWidth > list.clientWidth) problems.push("the chat scrolls sideways");
    for (const selector of [".chat", "#messages", "#text", "#send"]) {
        const box = document.querySelector(selector).getBoundingClientRect();
        if (box.width < 1 || box.left < 0 || box.right > width || box.top < 0
            || box.bottom > innerHeight) {
            problems.push(`${selector} is not wholly in the window: ${JSON.stringify(box)}`);
        }
    }
    const drawn = "#messages .bubble, #messages .kb, #reply-keyboard .kb, #menu .menu-item";
    for (const node of document.querySelectorAll(drawn)) {
        const box = node.getBoundingClientRect();
        const what = `"${node.textContent.slice(0, 30)}"`;
        if (box.left < 0 || box.right > width) problems.push(`${what} sticks out`);
        if (node.scrollWidth > node.clientWidth) problems.push(`${what} is cut off`);
    }
    return problems;
}"""


def find_chromium() -> str | None:
    for candidate in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(candidate)
        if found:
            return found
    return "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None


def screenshot_folder() -> Path | None:
    """Where the documentation's screenshot goes, if `CIVICPULSE_SCREENSHOTS` asks for it.

    Opt-in: an ordinary test run must not rewrite a file under version control.
    """
    folder = os.environ.get(SCREENSHOTS_VARIABLE, "").strip()
    return ROOT / folder if folder else None


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = find_chromium()
    if executable is None:
        reason = "no Chromium installed (apt-get install chromium); .ci/run installs it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with running_sandbox(tmp_path, long_poll_seconds=25, timezone=BOT_TIMEZONE) as running:
        yield running


class ChatPage:
    """The sandbox page as a person uses it: pick a persona, type, tap buttons."""

    def __init__(self, page: Page) -> None:
        self.page = page

    @property
    def last_bot_message(self) -> Locator:
        return self.page.locator("#messages .msg.bot").last

    @property
    def sidebar(self) -> Locator:
        return self.page.locator(".sidebar")

    async def act_as(self, name: str) -> None:
        """Pick the persona; on a narrow screen open the drawer first, which the pick closes."""
        drawer = self.page.locator("#drawer-toggle")
        in_drawer = await drawer.is_visible()
        if in_drawer:
            await drawer.click()
            await expect(self.sidebar).to_be_visible()
        persona = self.page.locator("#personas .persona", has_text=name)
        await persona.click()
        await expect(persona).to_have_attribute("aria-pressed", "true")
        await expect(self.page.locator("#acting-as")).to_contain_text(name)
        if in_drawer:
            await expect(self.sidebar).to_be_hidden()

    async def say(self, text: str, then: str) -> None:
        """Type and send ``text``; wait for a reply *after* it that contains ``then``.

        An earlier screen may contain ``then`` too, so the reply is recognised by its
        message id, which Telegram numbers upwards within a chat.
        """
        newest = await self.page.evaluate(NEWEST_MESSAGE_ID)
        await self.page.locator("#text").fill(text)
        await self.page.locator("#text").press("Enter")
        await self.page.wait_for_function(REPLY_AFTER, arg=[newest, then])

    async def tap(self, label: str, then: str, *, exact: bool = False) -> None:
        """Tap the newest button labelled ``label``; wait for the screen that follows.

        Matching is case-sensitive (a plain string in Playwright is not, and "Согласен"
        would match "Не согласен"); ``exact`` tells "4" from "14".
        """
        pattern = re.escape(label)
        if exact:
            pattern = f"^{pattern}$"
        await self.page.locator("#messages .kb").filter(has_text=re.compile(pattern)).last.click()
        await expect(self.last_bot_message).to_contain_text(then)

    async def assert_fits(self) -> None:
        """Nothing sticks out of the window or is cut off, at the window's present size."""
        assert await self.page.evaluate(LAYOUT_PROBLEMS) == [], self.page.viewport_size

    async def assert_times_in_bot_zone(self, sandbox: Sandbox, name: str) -> None:
        """Each message on screen shows its time as the bot tells it: in TIMEZONE, 24-hour."""
        zone = ZoneInfo(BOT_TIMEZONE)
        sent = {
            m.message_id: datetime.fromtimestamp(m.date, zone).strftime("%H:%M")
            for m in sandbox.runtime.telegram.chat(sandbox.persona_id(name), include_user=True)
        }
        shown = await self.page.evaluate(MESSAGE_TIMES)
        assert shown
        assert shown == [[message_id, sent[message_id]] for message_id, _ in shown]

    async def fonts_drawing(self, node: Locator) -> set[str]:
        """The fonts Chromium really drew ``node``'s text with (a missing glyph has none)."""
        await node.evaluate("(node) => node.setAttribute('data-font-probe', '')")
        devtools = await self.page.context.new_cdp_session(self.page)
        await devtools.send("DOM.enable")
        await devtools.send("CSS.enable")
        document = await devtools.send("DOM.getDocument")
        found = await devtools.send(
            "DOM.querySelector",
            {"nodeId": document["root"]["nodeId"], "selector": "[data-font-probe]"},
        )
        fonts = await devtools.send("CSS.getPlatformFontsForNode", {"nodeId": found["nodeId"]})
        await devtools.detach()
        return {font["familyName"] for font in fonts["fonts"]}


async def test_onboarding_a_wave_and_a_survey_in_the_browser(
    browser: Browser, sandbox: Sandbox
) -> None:
    expect.set_options(timeout=STEP_TIMEOUT_MS)
    page = await browser.new_page(
        viewport={"width": 1280, "height": 900}, locale="ru-RU", timezone_id=BROWSER_TIMEZONE
    )
    page.set_default_timeout(STEP_TIMEOUT_MS)
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "console",
        lambda message: (
            problems.append(f"console: {message.text}") if message.type == "error" else None
        ),
    )
    chat = ChatPage(page)
    await page.goto(sandbox.url)
    await expect(page.locator("#personas .persona")).to_have_count(4)
    await expect(page.locator("#messages")).to_contain_text("/start")  # the empty-chat hint

    # A citizen registers: consent, language, region and municipality by search, age.
    await chat.act_as("Анна")
    await chat.say("/start", then="согласие")
    await chat.tap("Согласен", then="Выберите язык")
    await chat.tap("Русский", then="В каком регионе")
    await chat.say("Новгород", then="Выберите регион")
    await chat.tap("Новгородская область", then="муниципалитет")
    await chat.say("Великий", then="муниципалитет")
    await chat.tap("Великий Новгород", then="Сколько вам лет")
    await chat.tap("25–30 лет", then="дети младше 18 лет")
    await chat.tap("Пропустить необязательные вопросы", then="Проверьте данные")
    await chat.tap("Всё верно", then="нет открытых опросов")

    # The administrator creates a wave in the admin chat.
    await chat.act_as("Ольга")
    await chat.say("/admin", then="Администрирование")
    await chat.tap("Новая волна", then="шаг 1 из 6")
    await chat.tap("Ежемесячный опрос о работе госуслуг", then="Шаг 2 из 6")
    await chat.tap("Все регионы", then="Шаг 3 из 6")
    await chat.tap("Все", then="Шаг 4 из 6", exact=True)
    await chat.tap("Сейчас", then="Шаг 5 из 6")
    await chat.tap("+7 дней", then="Шаг 6 из 6")
    await chat.tap("Не напоминать", then="Проверьте волну")
    await chat.tap("Создать", then="Волна #1")
    await expect(chat.last_bot_message).to_contain_text("приглашения разосланы")

    # The invitation arrives in the citizen's chat, flagged as unread in the sidebar.
    anna = page.locator("#personas .persona", has_text="Анна")
    await expect(anna.locator(".badge.unread")).to_be_visible()
    await chat.act_as("Анна")
    await expect(chat.last_bot_message).to_contain_text("Ежемесячный опрос о работе госуслуг")
    await expect(anna.locator(".badge.unread")).to_have_count(0)

    # The survey, one question per screen, with a skip and a typed answer.
    await chat.tap("Пройти опрос", then="вопрос 1 ·")
    await chat.tap("4", then="вопрос 2 ·", exact=True)
    await chat.tap("5", then="вопрос 3 ·", exact=True)
    await chat.tap("Пропустить", then="вопрос 4 ·")
    await chat.tap("Стала лучше", then="вопрос 5 ·")
    if (docs_images := screenshot_folder()) is not None:
        # A question with its buttons under the invitation: what the README shows.
        docs_images.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=docs_images / DOCS_SCREENSHOT)
    await chat.tap("9", then="вопрос 6 ·", exact=True)
    await chat.say("Больше врачей в поликлиниках", then="Спасибо")
    await chat.assert_times_in_bot_zone(sandbox, "Анна")
    await page.locator("#messages .msg").last.scroll_into_view_if_needed()
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=ARTIFACTS / "sandbox-citizen.png")

    # The administrator sees the completed answer counted.
    await chat.act_as("Ольга")
    await chat.say("/stats 1", then="Завершили: 1")

    # Results as the admin asks for them: the chart is shown, the CSV files download.
    await chat.say("/report 1", then="Индекс удовлетворённости")
    await page.wait_for_function(IMAGE_SHOWN)
    await chat.say("/export 1", then="civicpulse export answers --wave 1")  # microdata: not here
    async with page.expect_download() as downloading:
        await page.locator("#messages a.document", has_text="ratings_wave1.csv").click()
    download = await downloading.value
    assert download.suggested_filename == "ratings_wave1.csv"
    ratings = Path(await download.path()).read_bytes().decode("utf-8-sig")
    assert ratings.startswith("wave_id;region_code;region_name;")
    assert ";49;" in ratings
    await page.screenshot(path=ARTIFACTS / "sandbox-admin.png")

    # The command menu offers what the bot announced; the reset starts everything over.
    await page.locator("#menu-button").click()
    await expect(page.locator("#menu")).to_contain_text("/privacy")
    await page.locator("#menu-button").click()
    page.once("dialog", lambda dialog: dialog.accept())
    await page.locator("#reset").click()
    await expect(page.locator("#messages .msg")).to_have_count(0)
    await expect(page.locator("#personas .persona .badge.unread")).to_have_count(0)

    assert problems == []
    assert sandbox.runtime.telegram.unanswered_callbacks() == []


async def test_the_page_on_a_phone_and_a_desktop(browser: Browser, tmp_path: Path) -> None:
    """An English chat at 390 × 844, then 360, 1280 and 1920 pixels wide.

    The same page is resized rather than reopened: the layout must follow the window, as
    it does when a phone turns or a desktop window is narrowed.
    """
    expect.set_options(timeout=STEP_TIMEOUT_MS)
    ARTIFACTS.mkdir(exist_ok=True)
    page = await browser.new_page(viewport=PHONE, locale="en-US", timezone_id=BROWSER_TIMEZONE)
    page.set_default_timeout(STEP_TIMEOUT_MS)
    chat = ChatPage(page)
    async with running_sandbox(
        tmp_path, long_poll_seconds=25, timezone=BOT_TIMEZONE, default_locale="en"
    ) as sandbox:
        await page.goto(sandbox.url)
        await expect(page.locator("#personas .persona")).to_have_count(4)

        # The chat has the whole phone; the personas wait in a drawer behind a button.
        await expect(chat.sidebar).to_be_hidden()
        await expect(page.locator("#drawer-toggle")).to_be_visible()
        await page.locator("#drawer-toggle").click()
        await expect(chat.sidebar).to_be_visible()
        await page.screenshot(path=ARTIFACTS / "sandbox-phone-personas.png", animations="disabled")
        await page.keyboard.press("Escape")
        await expect(chat.sidebar).to_be_hidden()
        await chat.act_as("Boris")
        await chat.say("/start", then="consent")

        # Labels that start with an emoji: the page names the colour emoji fonts, and
        # Chromium really draws the ✅ with one (on Debian: fonts-noto-color-emoji).
        agree = page.locator("#messages .kb", has_text="I agree")
        family = await agree.evaluate("(node) => getComputedStyle(node).fontFamily")
        assert all(font in family for font in EMOJI_FONTS), family
        assert await chat.fonts_drawing(agree) & set(EMOJI_FONTS)

        await chat.assert_times_in_bot_zone(sandbox, "Boris")
        await chat.assert_fits()

        # A long link and a row of long labels: they wrap inside the window.
        bot = sandbox.runtime.app.bot
        row = [
            InlineKeyboardButton(text=label, callback_data=f"x{n}")
            for n, label in enumerate(LONG_LABELS)
        ]
        await bot.send_message(
            sandbox.persona_id("Boris"),
            f"See {LONG_URL}",
            reply_markup=InlineKeyboardMarkup(inline_keyboard=[row]),
        )
        await expect(chat.last_bot_message).to_contain_text(LONG_LABELS[1])
        await chat.assert_fits()
        await page.screenshot(path=ARTIFACTS / "sandbox-phone.png")
        await page.set_viewport_size(EXTREMES[0])
        await chat.assert_fits()
        await page.locator("#menu-button").click()
        await expect(page.locator("#menu")).to_contain_text("/privacy")
        await chat.assert_fits()
        await page.locator("#menu-button").click()

        # A message for someone else shows on the drawer's button; switching reads it.
        await bot.send_message(sandbox.persona_id("Anna"), "Hi")
        await expect(page.locator("#drawer-unread")).to_have_text("1")
        await chat.act_as("Anna")
        await expect(page.locator("#drawer-unread")).to_be_hidden()
        await chat.act_as("Boris")

        # On a desktop the personas are a sidebar again, beside the chat.
        await page.set_viewport_size(DESKTOP)
        await expect(chat.sidebar).to_be_visible()
        await expect(page.locator("#drawer-toggle")).to_be_hidden()
        await chat.assert_fits()
        await page.screenshot(path=ARTIFACTS / "sandbox-desktop.png")
        await page.set_viewport_size(EXTREMES[1])
        await chat.assert_fits()


def test_ci_installs_the_emoji_font_beside_chromium() -> None:
    """Without a colour emoji font, Debian's Chromium draws ✅ and ⬜️ as empty boxes."""
    installs = [
        line
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if "apt-get install" in line
    ]
    assert any("chromium" in line and EMOJI_FONT_PACKAGE in line for line in installs), installs
    assert EMOJI_FONT_PACKAGE in (ROOT / "docs" / "sandbox.md").read_text(encoding="utf-8")
