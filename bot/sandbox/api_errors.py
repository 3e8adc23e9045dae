"""Telegram's error responses, for the fake Bot API server.

The bot must survive Telegram's errors, and aiogram tells them apart only by HTTP status
and description (``TelegramRetryAfter``, ``TelegramForbiddenError``, ``TelegramBadRequest``
...).  So the errors the fake raises itself and the faults a test injects share one shape
and Telegram's exact wording, kept here in one place.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

__all__ = [
    "BAD_BUTTON",
    "BAD_MARKUP",
    "BLOCKED",
    "NOT_MODIFIED",
    "STALE_QUERY",
    "ApiError",
    "Fault",
    "FaultPolicy",
    "FaultResult",
    "bad",
]

JsonDict = dict[str, Any]

NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
BLOCKED: Final = "Forbidden: bot was blocked by the user"
STALE_QUERY: Final = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
BAD_MARKUP: Final = "Bad Request: can't parse reply keyboard markup JSON object"
BAD_BUTTON: Final = (
    "Bad Request: can't parse inline keyboard button: "
    "Text buttons are unallowed in the inline keyboard"
)


class ApiError(Exception):
    """A Telegram error response; raised anywhere in a handler, rendered by the router."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JsonDict:
        body: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass(frozen=True, slots=True)
class FaultResult:
    """An error response injected in place of a send (see :meth:`FakeTelegram.fail_sends`)."""

    status: int
    description: str
    retry_after: int | None = None


class Fault:
    """Constructors for the faults Telegram really produces during broadcasts."""

    @staticmethod
    def retry_after(seconds: int) -> FaultResult:
        """Flood control: 429 with ``parameters.retry_after`` (aiogram: TelegramRetryAfter)."""
        return FaultResult(429, f"Too Many Requests: retry after {seconds}", int(seconds))

    @staticmethod
    def forbidden(description: str = BLOCKED) -> FaultResult:
        """403, as for a user who blocked the bot (aiogram: TelegramForbiddenError)."""
        return FaultResult(403, description)

    @staticmethod
    def bad_request(description: str = "Bad Request: chat not found") -> FaultResult:
        """400 with the given description (aiogram: TelegramBadRequest)."""
        if not description.startswith("Bad Request"):
            description = f"Bad Request: {description}"
        return FaultResult(400, description)

    @staticmethod
    def server_error(description: str = "Internal Server Error") -> FaultResult:
        """500, a transient Telegram failure (aiogram: TelegramServerError)."""
        return FaultResult(500, description)


FaultPolicy = Callable[[str, int, int], FaultResult | None]
"""``(method, chat_id, attempt) -> FaultResult | None``; ``attempt`` counts earlier sends."""
