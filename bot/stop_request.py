"""A stop asked for while the bot is still starting.

aiogram installs its SIGTERM/SIGINT handlers only when polling begins (and `run_webhook`
only when serving begins). Until then a signal would take its default action and kill the
process half-way through opening the database or announcing commands, with exit status
-15 for a service manager that asked politely. Caught here instead, the request is
remembered, start-up finishes, and the bot stops before it serves anything.
"""

from __future__ import annotations

import asyncio
import logging
import signal

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StopRequest:
    def __init__(self) -> None:
        self.requested = False

    @classmethod
    def catch(cls) -> StopRequest:
        """Catch stop signals on the running loop from now until a server takes them over."""
        request = cls()
        loop = asyncio.get_running_loop()
        for signum in STOP_SIGNALS:
            loop.add_signal_handler(signum, request._received, signum)
        return request

    def _received(self, signum: int) -> None:
        self.requested = True
        log.warning(
            "received %s while starting: stopping once start-up is done",
            signal.Signals(signum).name,
        )
