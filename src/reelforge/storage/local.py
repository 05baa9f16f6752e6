"""Storage on the local disk, under one root directory."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from reelforge.errors import NotFound
from reelforge.storage.base import check_key


class LocalStorage:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        path = (self.root / check_key(key)).resolve()
        if self.root not in path.parents:
            raise NotFound(f"no object {key!r}")
        return path

    def put_file(self, key: str, source: Path) -> None:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-", suffix=dest.suffix)
        os.close(fd)
        try:
            shutil.copyfile(source, tmp)
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def put_bytes(self, key: str, data: bytes) -> None:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-", suffix=dest.suffix)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def open_chunks(self, key: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        path = self.local_path(key)
        with path.open("rb") as f:
            while chunk := f.read(chunk_size):
                yield chunk

    def local_path(self, key: str) -> Path:
        path = self._path(key)
        if not path.is_file():
            raise NotFound(f"no object {key!r}")
        return path

    def size(self, key: str) -> int:
        return self.local_path(key).stat().st_size

    def delete_prefix(self, prefix: str) -> None:
        path = self._path(prefix.rstrip("/"))
        if path.is_dir():
            shutil.rmtree(path)
        elif path.is_file():
            path.unlink()

    def download_url(
        self, key: str, expires_seconds: int, filename: str, media_type: str
    ) -> str | None:
        """None: the API serves local files itself."""
        return None
