"""The sandbox as `civicpulse sandbox` runs it, minus the terminal: for the page tests.

Shared by the API tests (tests/test_sandbox.py) and the browser test
(tests/test_browser.py), which both talk to the page over HTTP exactly as a browser does
and wait on the page's own long poll rather than on sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.sandbox.runtime import SandboxRuntime
from bot.sandbox.server import SandboxPage
from bot.settings import Settings

State = dict[str, Any]


@dataclass
class Sandbox:
    runtime: SandboxRuntime
    page: SandboxPage
    http: aiohttp.ClientSession

    @property
    def url(self) -> str:
        assert self.page.url is not None
        return self.page.url

    def persona_id(self, name: str) -> int:
        """The chat id of the persona the page lists as ``name``."""
        return next(p.id for p in self.runtime.personas if p.name == name)

    async def state(self, chat: int | None = None, since: int | None = None) -> State:
        query: dict[str, str] = {}
        if chat is not None:
            query["chat"] = str(chat)
        if since is not None:
            query.update(since=str(since), session=self.page.session)
        async with self.http.get("/api/state", params=query) as response:
            assert response.status == 200, await response.text()
            return dict(await response.json())

    async def wait_state(
        self, chat: int, predicate: Callable[[State], bool], timeout: float = 10.0
    ) -> State:
        """Long-poll like the page does until the state satisfies ``predicate``."""
        state = await self.state(chat)
        async with asyncio.timeout(timeout):
            while not predicate(state):
                state = await self.state(chat, since=state["revision"])
        return state

    async def post(self, path: str, body: Any) -> tuple[int, Any]:
        async with self.http.post(path, json=body) as response:
            return response.status, await response.json()


def sandbox_base_settings(**overrides: Any) -> Settings:
    """The operator's settings as the sandbox would receive them, without any `.env`.

    Throttling is off: the tests press buttons faster than any person would.
    """
    values: dict[str, Any] = {"throttle_rate": 0}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running_sandbox(
    directory: Path, long_poll_seconds: float = 5.0, **overrides: Any
) -> AsyncIterator[Sandbox]:
    runtime = SandboxRuntime(
        sandbox_base_settings(**overrides), directory / "sandbox" / "civicpulse.db", 1
    )
    await runtime.start()
    page = SandboxPage(runtime, long_poll_seconds=long_poll_seconds)
    try:
        url = await page.start(port=0)
        async with aiohttp.ClientSession(base_url=url.rstrip("/")) as http:
            yield Sandbox(runtime, page, http)
    finally:
        await page.stop()
        await runtime.stop()
    assert not runtime.telegram.internal_errors, runtime.telegram.internal_errors
