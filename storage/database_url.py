"""`DATABASE_URL`: its accepted shape, and how it is shown without its password.

Kept apart from the driver, so that reading the settings does not load it.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

SCHEMES = ("postgresql", "postgres")
_HIDDEN = "***"
_PASSWORD_PARAMETER = re.compile(r"((?:^|&)password=)[^&]*")


def check_database_url(url: str) -> None:
    """Refuses what is not a PostgreSQL URL, in words that never repeat the password."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - reading it checks it
    except ValueError:
        raise ValueError(f"not a valid URL: {masked(url)}") from None
    if parts.scheme not in SCHEMES:
        raise ValueError(
            f"only PostgreSQL is supported: postgresql://user:password@host:5432/database,"
            f" not {masked(url)}"
        )
    if not parts.path.strip("/"):
        raise ValueError(f"name the database after the host: {masked(url)}/civicpulse")


def masked(url: str) -> str:
    """The URL with its password (in the address or as `?password=`) replaced by ***."""
    parts = urlsplit(url)
    userinfo, at, address = parts.netloc.rpartition("@")
    user, colon, _ = userinfo.partition(":")
    netloc = f"{user}:{_HIDDEN}@{address}" if colon else f"{userinfo}{at}{address}"
    query = _PASSWORD_PARAMETER.sub(rf"\1{_HIDDEN}", parts.query)
    return f"{parts.scheme}://{netloc}{parts.path}" + (f"?{query}" if query else "")
