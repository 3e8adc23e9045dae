"""Try CivicPulse without Telegram: a local Bot API stand-in and a chat in the browser.

`fake_telegram` is a Bot API server on 127.0.0.1 that the real aiogram client talks to
over HTTP; the end-to-end tests and the benchmarks use it too. Its parts import only the
standard library, aiohttp and orjson, nothing of the bot: it stands where Telegram stands.
`runtime` runs the real bot against it (so it may import `bot.app` and `bot.settings`),
and `server` serves the browser page. Only the command line (`civicpulse sandbox`) and the
tests import this room.
"""
