"""The files the fake Bot API server holds: what the bot uploaded and what users sent.

Files are kept whole, under the ids and paths Telegram would hand out, so that a test can
read an export back byte for byte, the bot can resend a document by ``file_id`` or fetch
a user's photo through ``getFile``, and every message that carries a file describes it
the same way.
"""

from __future__ import annotations

import itertools
import struct
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["FileStore", "StoredFile", "UploadedFile", "is_image"]

JsonDict = dict[str, Any]

_IMAGE_SIGNATURES: Final = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file the bot uploaded (or a user sent), kept whole so tests can read it back."""

    filename: str
    content: bytes
    content_type: str

    def text(self, encoding: str = "utf-8-sig") -> str:
        """Decode the content; the default strips a BOM, which CSV exports often carry."""
        return self.content.decode(encoding)


@dataclass(frozen=True, slots=True)
class StoredFile:
    upload: UploadedFile
    file_unique_id: str
    file_path: str
    width: int
    height: int


class FileStore:
    """Stored files by ``file_id`` and by download path."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = itertools.count(1)

    def next_number(self) -> int:
        """The next number of the counter that file ids (and users' sticker ids) use."""
        return next(self._counter)

    def store(self, upload: UploadedFile, folder: str) -> str:
        """Keep ``upload`` under a new file id, which is returned."""
        n = self.next_number()
        file_id = f"file-{n}"
        suffix = upload.filename.rsplit(".", 1)[-1] if "." in upload.filename else "bin"
        width, height = _image_size(upload.content)
        stored = StoredFile(upload, f"u{n}", f"{folder}/file_{n}.{suffix}", width, height)
        self._by_id[file_id] = self._by_path[stored.file_path] = stored
        return file_id

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def at_path(self, file_path: str) -> StoredFile | None:
        """The file ``/file/bot{token}/{file_path}`` downloads."""
        return self._by_path.get(file_path)

    def photo_size(self, file_id: str) -> JsonDict:
        """The ``PhotoSize`` object of a stored photo."""
        stored = self._by_id[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "width": stored.width,
            "height": stored.height,
            "file_size": len(stored.upload.content),
        }

    def document(self, file_id: str) -> JsonDict:
        """The ``Document`` object of a stored file."""
        stored = self._by_id[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": stored.file_unique_id,
            "file_name": stored.upload.filename,
            "mime_type": stored.upload.content_type,
            "file_size": len(stored.upload.content),
        }

    def clear(self) -> None:
        """Forget every file; the counter goes on, so old ids are never reused."""
        self._by_id.clear()
        self._by_path.clear()


def is_image(content: bytes) -> bool:
    return content.startswith(_IMAGE_SIGNATURES) or (
        content[:4] == b"RIFF" and content[8:12] == b"WEBP"
    )


def _image_size(content: bytes) -> tuple[int, int]:
    """Width and height from a PNG header (0, 0 for anything else); enough for PhotoSize."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    return 0, 0
