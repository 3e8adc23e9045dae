"""Moved to `bot.sandbox.fake_telegram`; kept only until every test imports it from there."""

from bot.sandbox.fake_telegram import *  # noqa: F403
from bot.sandbox.fake_telegram import __all__  # noqa: F401
