"""Local reference files are uploaded once: `FileCache` maps a file's SHA-256 to the `file_id`
the server gave it. Kept in memory by default; with a `path`, also in a small JSON file, so a
later process (a resumed `reelforge batch`) names the same upload, which keeps a repeated
create byte-for-byte the same request (an idempotent replay rather than a 409). An entry read
back from disk is checked once with `GET /v1/files/{id}` (same SHA-256) before it is used."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path

from reelforge.client.types import FileObject


class FileCache:
    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._ids: dict[str, str] = {}
        self._verified: set[str] = set()
        self._digests: dict[tuple[str, int, int], str] = {}
        if self.path is not None and self.path.exists():
            with contextlib.suppress(OSError, ValueError):
                data = json.loads(self.path.read_text())
                if isinstance(data, dict):
                    self._ids = {str(k): str(v) for k, v in data.items()}

    def digest(self, path: Path) -> str:
        """SHA-256 of a local file (remembered by path, size and mtime)."""
        st = path.stat()
        memo = (str(path.resolve()), st.st_size, st.st_mtime_ns)
        with self._lock:
            found = self._digests.get(memo)
        if found is not None:
            return found
        h = hashlib.sha256()
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        digest = h.hexdigest()
        with self._lock:
            self._digests[memo] = digest
        return digest

    def lookup(self, digest: str) -> tuple[str | None, bool]:
        """The file id known for `digest` and whether this process has seen it valid."""
        with self._lock:
            return self._ids.get(digest), digest in self._verified

    def remember(self, digest: str, file: FileObject) -> None:
        with self._lock:
            self._ids[digest] = file.id
            self._verified.add(digest)
            self._save()

    def verified(self, digest: str) -> None:
        with self._lock:
            self._verified.add(digest)

    def forget(self, digest: str) -> None:
        with self._lock:
            self._ids.pop(digest, None)
            self._verified.discard(digest)
            self._save()

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        with os.fdopen(fd, "w") as out:
            json.dump(self._ids, out, indent=0, sort_keys=True)
        os.replace(tmp, self.path)
