"""The sandbox page's API, its rendering of bot messages, and the `sandbox`/`start` commands.

The page is driven over HTTP exactly as app.js drives it, against the real bot and the
Bot API stand-in, so these tests see what a person in the browser would see.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiogram.types import BufferedInputFile

from bot.cli import run as cli_run
from bot.cli import sandbox as cli_sandbox
from bot.cli.main import build_parser
from bot.sandbox.chat_view import chat_view
from bot.sandbox.personas import ADMIN_ID
from bot.sandbox.rich_text import rich_text
from bot.sandbox.runtime import SANDBOX_TOKEN, sandbox_settings
from tests.sandbox_harness import Sandbox, State, running_sandbox, sandbox_base_settings

ANNA = 1001


@pytest.fixture
async def sandbox(tmp_path: Path) -> AsyncIterator[Sandbox]:
    async with running_sandbox(tmp_path) as running:
        yield running


def plain(nodes: list[Any]) -> str:
    """The text a reader sees in a rich-text tree."""
    return "".join(n if isinstance(n, str) else plain(n["children"]) for n in nodes)


def bot_messages(state: State) -> list[dict[str, Any]]:
    return [m for m in state["chat"]["messages"] if m["from_bot"]]


def labels(message: dict[str, Any]) -> list[str]:
    return [button["text"] for row in message["keyboard"] for button in row]


def button_data(message: dict[str, Any], label: str) -> str:
    return next(b["data"] for row in message["keyboard"] for b in row if label in b["text"])


async def start_chat(sandbox: Sandbox, chat: int = ANNA) -> dict[str, Any]:
    """The persona sends /start; returns the bot's consent message."""
    status, _ = await sandbox.post(f"/api/chats/{chat}/messages", {"text": "/start"})
    assert status == 200
    state = await sandbox.wait_state(chat, lambda s: len(bot_messages(s)) == 1)
    return bot_messages(state)[0]


# --- the bot behind the page ---------------------------------------------------------------


async def test_the_real_bot_runs_against_the_stand_in_with_sandbox_settings(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    settings = sandbox.runtime.app.settings
    assert settings.telegram_api_url == sandbox.runtime.telegram.base_url
    assert settings.bot_token is not None
    assert settings.bot_token.get_secret_value() == SANDBOX_TOKEN
    assert settings.database_path == tmp_path / "sandbox" / "civicpulse.db"
    assert settings.admin_ids == frozenset({ADMIN_ID})
    assert settings.database_path.exists()

    state = await sandbox.state()
    assert state["bot"] == {"name": "CivicPulse", "username": "civicpulse_sandbox_bot"}
    assert [(p["id"], p["role"]) for p in state["personas"]] == [
        (1001, "citizen"),
        (1002, "citizen"),
        (1003, "citizen"),
        (ADMIN_ID, "admin"),
    ]
    assert state["chat"] is None
    # The bot announced its command menu to the stand-in, and the page offers it.
    chat_state = await sandbox.state(ANNA)
    assert "survey" in [c["command"] for c in chat_state["commands"]]


def test_sandbox_refuses_the_production_database(tmp_path: Path) -> None:
    production = tmp_path / "civicpulse.db"
    base = sandbox_base_settings(database_path=production)
    with pytest.raises(ValueError, match="production database"):
        sandbox_settings(base, "http://127.0.0.1:1", production, frozenset({ADMIN_ID}))


async def test_stand_in_answers_bad_requests_in_bot_api_shape(sandbox: Sandbox) -> None:
    base = f"{sandbox.runtime.telegram.base_url}/bot{SANDBOX_TOKEN}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/noSuchMethod") as response:
            assert response.status == 404
            assert await response.json() == {
                "ok": False,
                "error_code": 404,
                "description": "Not Found: method not found",
            }
        async with http.post(
            f"{base}/sendMessage",
            data=b"{not json",
            headers={"Content-Type": "application/json"},
        ) as response:
            body = await response.json()
            assert (response.status, body["ok"], body["error_code"]) == (400, False, 400)
            assert body["description"].startswith("Bad Request: can't parse request body")


# --- chatting through the page -------------------------------------------------------------


async def test_typed_text_and_button_presses_reach_the_bot_and_edits_show_in_place(
    sandbox: Sandbox,
) -> None:
    consent = await start_chat(sandbox)
    assert "CivicPulse" in plain(consent["text"])
    assert any("Согласен" in label for label in labels(consent))

    status, result = await sandbox.post(
        f"/api/chats/{ANNA}/press",
        {"message_id": consent["id"], "data": button_data(consent, "Согласен")},
    )
    assert status == 200
    assert "answer" in result  # the bot answered the callback: no spinner left

    state = await sandbox.wait_state(
        ANNA, lambda s: "Русский" in labels(bot_messages(s)[-1]), timeout=5
    )
    [screen] = bot_messages(state)
    assert screen["id"] == consent["id"]  # the same message, edited in place
    assert screen["edited"] is True
    assert not any("Согласен" in label for label in labels(screen))

    # The bot takes the keyboard away: the page shows the message without buttons.
    await sandbox.runtime.app.bot.edit_message_reply_markup(
        chat_id=ANNA, message_id=screen["id"], reply_markup=None
    )
    state = await sandbox.wait_state(ANNA, lambda s: not bot_messages(s)[-1]["keyboard"])
    assert [m["text"] for m in state["chat"]["messages"] if not m["from_bot"]] == [["/start"]]


async def test_a_button_that_is_gone_is_refused_not_pressed(sandbox: Sandbox) -> None:
    consent = await start_chat(sandbox)
    data = button_data(consent, "Согласен")
    await sandbox.post(f"/api/chats/{ANNA}/press", {"message_id": consent["id"], "data": data})
    await sandbox.wait_state(ANNA, lambda s: "Русский" in labels(bot_messages(s)[-1]))
    pending = sandbox.runtime.telegram.pending_updates

    status, body = await sandbox.post(
        f"/api/chats/{ANNA}/press", {"message_id": consent["id"], "data": data}
    )
    assert (status, body) == (409, {"error": "that button is no longer there"})
    status, _ = await sandbox.post(f"/api/chats/{ANNA}/press", {"message_id": 99, "data": "x"})
    assert status == 409
    assert sandbox.runtime.telegram.pending_updates == pending  # nothing reached the bot


async def test_the_long_poll_waits_for_a_change_and_wakes_on_one(tmp_path: Path) -> None:
    async with running_sandbox(tmp_path, long_poll_seconds=0.3) as sandbox:
        first = await sandbox.state(ANNA)
        started = asyncio.get_running_loop().time()
        unchanged = await sandbox.state(ANNA, since=first["revision"])
        assert asyncio.get_running_loop().time() - started >= 0.25
        assert unchanged["revision"] == first["revision"]

        # A request from an earlier sandbox process (another session) is answered at once.
        async with sandbox.http.get(
            "/api/state", params={"chat": ANNA, "since": 10**6, "session": "earlier"}
        ) as response:
            assert (await response.json())["revision"] == first["revision"]

    async with running_sandbox(tmp_path, long_poll_seconds=10) as sandbox:
        first = await sandbox.state(ANNA)
        poll = asyncio.create_task(sandbox.state(ANNA, since=first["revision"]))
        await asyncio.sleep(0)  # let the poll reach the server before the change
        sandbox.runtime.telegram.user(ANNA).send_text("привет")
        woken = await asyncio.wait_for(poll, 5)
        assert woken["revision"] > first["revision"]
        assert woken["chat"]["messages"][0]["text"] == ["привет"]


async def test_bad_requests_from_the_page_get_plain_errors(sandbox: Sandbox) -> None:
    assert await sandbox.post("/api/chats/4242/messages", {"text": "hi"}) == (
        404,
        {"error": "no such persona"},
    )
    status, _ = await sandbox.post(f"/api/chats/{ANNA}/messages", {"text": "   "})
    assert status == 400
    status, _ = await sandbox.post(f"/api/chats/{ANNA}/messages", ["not", "an", "object"])
    assert status == 400
    # A cross-site form cannot post JSON without a preflight; form bodies are refused.
    async with sandbox.http.post(
        f"/api/chats/{ANNA}/messages", data={"text": "/start"}
    ) as response:
        assert response.status == 415
    # DNS rebinding: a page from another host name gets nothing.
    async with sandbox.http.get("/api/state", headers={"Host": "evil.example:80"}) as response:
        assert response.status == 403
    assert sandbox.runtime.telegram.chat(ANNA, include_user=True) == []


async def test_documents_download_and_photos_show(sandbox: Sandbox) -> None:
    bot = sandbox.runtime.app.bot
    csv = "регион,оценка\n49,72.5\n".encode()
    await bot.send_document(
        ANNA, BufferedInputFile(csv, filename="ratings wave 1.csv"), caption="Итоги"
    )
    sandbox.runtime.telegram.user(ANNA).send_photo(caption="фото")
    state = await sandbox.wait_state(ANNA, lambda s: len(s["chat"]["messages"]) == 2)
    document, photo = state["chat"]["messages"]
    assert document["document"]["name"] == "ratings wave 1.csv"
    assert document["caption"] == ["Итоги"]
    assert photo["photo"]["type"] == "image/png" and not photo["from_bot"]

    async with sandbox.http.get(document["document"]["url"]) as response:
        assert response.status == 200
        assert await response.read() == csv
        assert response.headers["Content-Disposition"] == (
            "attachment; filename*=UTF-8''ratings%20wave%201.csv"
        )
    async with sandbox.http.get(photo["photo"]["url"]) as response:
        assert response.headers["Content-Type"] == "image/png"
        assert response.headers["Content-Disposition"].startswith("inline")
    async with sandbox.http.get(f"/api/chats/{ANNA}/files/99") as response:
        assert response.status == 404


async def test_a_new_citizen_can_be_added_and_talks_to_the_bot(sandbox: Sandbox) -> None:
    status, persona = await sandbox.post("/api/personas", {"name": "  Дмитрий  "})
    assert status == 200
    assert persona == {"id": 1004, "name": "Дмитрий", "role": "citizen", "language": "ru"}
    state = await sandbox.state()
    assert [p["id"] for p in state["personas"]] == [1001, 1002, 1003, 1004, ADMIN_ID]
    assert "CivicPulse" in plain((await start_chat(sandbox, 1004))["text"])
    status, _ = await sandbox.post("/api/personas", {"name": ""})
    assert status == 400


async def test_reset_empties_the_chats_and_the_database(sandbox: Sandbox) -> None:
    consent = await start_chat(sandbox)
    await sandbox.post(
        f"/api/chats/{ANNA}/press",
        {"message_id": consent["id"], "data": button_data(consent, "Согласен")},
    )
    await sandbox.wait_state(ANNA, lambda s: "Русский" in labels(bot_messages(s)[-1]))
    assert await sandbox.runtime.app.store.respondents.by_telegram_id(ANNA) is not None

    status, _ = await sandbox.post("/api/reset", {})
    assert status == 200
    state = await sandbox.state(ANNA)
    assert state["chat"]["messages"] == []
    assert all(p["bot_messages"] == 0 for p in state["personas"])
    assert await sandbox.runtime.app.store.respondents.by_telegram_id(ANNA) is None
    # The bot runs again on the fresh database and greets Anna as a newcomer.
    assert "CivicPulse" in plain((await start_chat(sandbox))["text"])


# --- rendering -------------------------------------------------------------------------------


def test_telegram_html_becomes_a_safe_tree() -> None:
    html = (
        '<b>Итоги</b> &amp; <i>ход</i>: <a href="https://example.org/r">отчёт</a> '
        '<a href="javascript:alert(1)">ссылка</a> <tg-spoiler>тайна</tg-spoiler> '
        '<span class="tg-spoiler">ещё</span> &lt;script&gt;alert(1)&lt;/script&gt; '
        "<pre><code>x = 1</code></pre>"
    )
    assert rich_text(html, "HTML") == [
        {"tag": "b", "children": ["Итоги"]},
        " & ",
        {"tag": "i", "children": ["ход"]},
        ": ",
        {"tag": "a", "children": ["отчёт"], "href": "https://example.org/r"},
        " ",
        {"tag": "a", "children": ["ссылка"]},  # no href: the link is dropped, text kept
        " ",
        {"tag": "spoiler", "children": ["тайна"]},
        " ",
        {"tag": "spoiler", "children": ["ещё"]},
        " <script>alert(1)</script> ",  # text, never markup
        {"tag": "pre", "children": [{"tag": "code", "children": ["x = 1"]}]},
    ]
    # Tags Telegram would not render are transparent; other parse modes stay verbatim.
    assert rich_text("<div onclick=x()>a<img src=x>b</div>", "html") == ["ab"]
    assert rich_text("*bold* <b>", "MarkdownV2") == ["*bold* <b>"]
    assert rich_text(None, "HTML") == []


async def test_chat_view_marks_edits_and_drops_removed_keyboards(sandbox: Sandbox) -> None:
    bot = sandbox.runtime.app.bot
    telegram = sandbox.runtime.telegram
    from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

    markup = InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text="Да", callback_data="yes")],
            [InlineKeyboardButton(text="Сайт", url="https://example.org")],
        ]
    )
    sent = await bot.send_message(ANNA, "<b>Вопрос</b>", reply_markup=markup)
    [view] = chat_view(telegram, ANNA)["messages"]
    assert view["keyboard"] == [
        [{"text": "Да", "data": "yes"}],
        [{"text": "Сайт", "url": "https://example.org"}],
    ]
    assert (view["edited"], view["text"]) == (False, [{"tag": "b", "children": ["Вопрос"]}])

    await bot.edit_message_text("Спасибо", chat_id=ANNA, message_id=sent.message_id)
    [view] = chat_view(telegram, ANNA)["messages"]
    assert (view["edited"], view["text"], view["keyboard"]) == (True, ["Спасибо"], [])


# --- the commands ------------------------------------------------------------------------------


def test_sandbox_and_start_are_commands() -> None:
    args = build_parser().parse_args(["sandbox", "--port", "9000", "--reset", "--no-browser"])
    assert (args.port, args.reset, args.no_browser) == (9000, True, True)
    assert args.handler is cli_sandbox.sandbox_command
    args = build_parser().parse_args(["start"])
    assert (args.port, args.reset, args.no_browser) == (8080, False, False)


async def test_start_runs_the_bot_with_a_token_and_the_sandbox_without(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    chosen: list[str] = []

    async def fake_run(args: argparse.Namespace, settings: Any) -> int:
        chosen.append("run")
        return 0

    async def fake_sandbox(args: argparse.Namespace, settings: Any) -> int:
        chosen.append("sandbox")
        return 0

    monkeypatch.setattr(cli_run, "run_command", fake_run)
    monkeypatch.setattr(cli_sandbox, "sandbox_command", fake_sandbox)
    args = build_parser().parse_args(["start", "--no-browser"])

    assert await cli_sandbox.start_command(args, sandbox_base_settings(bot_token="1:x")) == 0
    assert "starting the bot" in capsys.readouterr().out
    assert await cli_sandbox.start_command(args, sandbox_base_settings()) == 0
    assert "starting the sandbox" in capsys.readouterr().out
    assert chosen == ["run", "sandbox"]


async def test_the_sandbox_command_serves_the_page_and_stops_cleanly_on_ctrl_c(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "DATABASE_PATH")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        "--port",
        "0",
        "--no-browser",
        cwd=tmp_path,
        env={**env, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    try:
        first = (await asyncio.wait_for(process.stdout.readline(), 30)).decode()
        assert first.startswith("CivicPulse sandbox: http://127.0.0.1:"), first
        url = first.split(": ", 1)[1].strip()
        async with aiohttp.ClientSession() as http:
            async with http.get(url) as response:
                assert response.status == 200
                assert "<title>CivicPulse sandbox</title>" in await response.text()
            async with http.get(url + "static/app.js") as response:
                assert response.status == 200
            # The bot in that process answers a persona, so it is fully up when stopped.
            chat = f"{url}api/chats/{ANNA}"
            async with http.post(f"{chat}/messages", json={"text": "/start"}) as response:
                assert response.status == 200
            state: State = {"revision": 0, "session": "", "chat": {"messages": []}}
            async with asyncio.timeout(15):
                while len(state["chat"]["messages"]) < 2:
                    query = {"chat": ANNA, "since": state["revision"], "session": state["session"]}
                    async with http.get(f"{url}api/state", params=query) as response:
                        state = await response.json()
        process.send_signal(signal.SIGINT)
        out, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, err.decode()
    assert "stopping the sandbox" in out.decode()
    assert "Traceback" not in err.decode()
    assert (tmp_path / "data" / "sandbox" / "civicpulse.db").exists()
    assert not (tmp_path / "data" / "civicpulse.db").exists()
