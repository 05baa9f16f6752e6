"""Object storage contract. Keys are relative, slash-separated, validated by `check_key`."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from reelforge import codes
from reelforge.errors import InvalidRequest

_KEY = re.compile(r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-][A-Za-z0-9_.\-]*)*$")


def check_key(key: str) -> str:
    """Refuse keys that could escape the store: absolute paths, `..`, odd characters."""
    if len(key) > 300 or not _KEY.match(key) or ".." in key.split("/"):
        raise InvalidRequest(f"invalid storage key {key!r}", code=codes.INVALID_REQUEST_STORAGE_KEY)
    return key


class Storage(Protocol):
    def put_file(self, key: str, source: Path) -> None:
        """Store the file at `source` under `key` atomically (readers never see half of it)."""

    def put_bytes(self, key: str, data: bytes) -> None: ...

    def exists(self, key: str) -> bool: ...

    def open_chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]: ...

    def local_path(self, key: str) -> Path:
        """A path on this machine holding the object (downloaded to a cache if remote)."""

    def size(self, key: str) -> int: ...

    def delete_prefix(self, prefix: str) -> None:
        """Delete the object `prefix` and every object under `prefix/`."""

    def download_url(
        self, key: str, expires_seconds: int, filename: str, media_type: str
    ) -> str | None:
        """A URL a client may fetch the object from directly for `expires_seconds`, served as
        `media_type` and named `filename`; None when the API must serve the bytes itself."""
