"""A whole site as files: relative path → bytes, ready to be written into a folder."""

from __future__ import annotations

from surveys.site.content import SiteContent
from surveys.site.pages import (
    CHANGE_MAP,
    MAP,
    how_to_read_page,
    index_page,
    region_codes,
    region_page,
    region_path,
)
from surveys.site.texts import LANGUAGES

#: Marks a folder as a published site, so that publishing again may replace it and never
#: a folder of anything else.
MARKER = ".civicpulse-site"


def render_site(content: SiteContent) -> dict[str, bytes]:
    """Every file of the site. Russian at the root, English under `en/`, the open-data
    files under `data/` for both."""
    files: dict[str, bytes] = {MARKER: b"Published by civicpulse publish; replaced on the next.\n"}
    for file in content.files.values():
        files[f"data/{file.name}"] = file.csv_bytes()
    codes = region_codes(content)
    for language in LANGUAGES:
        prefix = "" if language == "ru" else f"{language}/"
        files[f"{prefix}index.html"] = index_page(content, language).encode()
        files[f"{prefix}how-to-read.html"] = how_to_read_page(content, language).encode()
        for code in codes:
            files[prefix + region_path(code)] = region_page(content, language, code).encode()
        if language in content.maps:
            files[f"{prefix}{MAP}"] = content.maps[language]
        if language in content.change_maps:
            files[f"{prefix}{CHANGE_MAP}"] = content.change_maps[language]
    return files
