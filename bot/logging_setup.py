"""Logging that cannot leak the bot token, nor name a person by their Telegram id.

The token is part of every Bot API URL, and network errors quote URLs; a filter on the
root handlers redacts it from any record, whoever logs it. A person a log line is about is
named by `person_tag`: logs are kept, copied and read by more people than the database.
"""

from __future__ import annotations

import hashlib
import logging
import secrets

#: Random for each process and never stored: a tag links one person's log lines within a
#: run, but cannot be turned back into their Telegram id, nor matched with another run's
#: log or with the pseudonyms of an export.
_TAG_KEY = secrets.token_bytes(16)


class RedactFilter(logging.Filter):
    def __init__(self, secret: str) -> None:
        super().__init__()
        self._secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if self._secret in message:
            record.msg = message.replace(self._secret, "<redacted>")
            record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            if self._secret in text:
                record.exc_text = text.replace(self._secret, "<redacted>")
                record.exc_info = None
                record.msg = f"{record.msg}\n{record.exc_text}"
                record.exc_text = None
        return True


def configure_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def redact(secret: str) -> None:
    """Hide `secret` from every log line from now on."""
    for handler in logging.getLogger().handlers:
        handler.addFilter(RedactFilter(secret))


def person_tag(telegram_id: int) -> str:
    """How a log line names a person: a keyed hash, never their Telegram id."""
    digest = hashlib.blake2b(str(telegram_id).encode(), key=_TAG_KEY, digest_size=5)
    return f"person {digest.hexdigest()}"
