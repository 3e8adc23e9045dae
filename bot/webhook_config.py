"""What `civicpulse run --webhook URL --listen HOST:PORT` asks for, checked before start-up.

Kept apart from the server (`bot.webhook`) so that the command line can show and check
these options without loading aiogram.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from bot.settings import Settings

DEFAULT_LISTEN = "127.0.0.1:8080"


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    """Where Telegram sends updates (`url`) and where this process listens for them."""

    url: str
    host: str
    port: int
    secret: str

    @property
    def path(self) -> str:
        """The URL's path: a reverse proxy passes it on unchanged (see the nginx example)."""
        return urlsplit(self.url).path or "/"


def parse_listen(text: str) -> tuple[str, int]:
    """`HOST:PORT` (`[::1]:8080` for IPv6) into its parts; ValueError says what is wrong."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"--listen expects HOST:PORT, such as {DEFAULT_LISTEN}, not {text!r}")
    return host.strip("[]"), int(port)


def make_config(settings: Settings, url: str, listen: str = DEFAULT_LISTEN) -> WebhookConfig:
    """Validate the command line; the secret is the configured one or a fresh random one."""
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"--webhook expects an https:// URL (Telegram requires TLS), not {url!r}")
    host, port = parse_listen(listen)
    configured = settings.webhook_secret
    secret = configured.get_secret_value() if configured else secrets.token_urlsafe(32)
    return WebhookConfig(url, host, port, secret)
