"""A reference after intake: its bytes stored under `storage_key`, its header probed.

One of the two reference types (the other, `spec.ReferenceInput`, is what the client asked
for). The same value travels from intake through the job record to the engine: a worker only
adds `local_path`, the copy of the bytes it can read, before the render (`with_local_path`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from reelforge.spec import ReferenceKind, ReferenceRole


@dataclass(frozen=True)
class StoredReference:
    """A reference after intake at create time: its bytes live in storage under `storage_key`."""

    kind: ReferenceKind
    role: ReferenceRole
    index: int  # 1-based within its kind
    storage_key: str
    sha256: str
    mime_type: str
    bytes: int
    width: int | None = None
    height: int | None = None
    seconds: float | None = None
    fps: float | None = None
    # Where this process can read the bytes: set for a render or a quality check, never
    # stored (a path is only true on the machine that made it).
    local_path: Path | None = field(default=None, compare=False)

    @property
    def path(self) -> Path:
        """The local copy of the bytes; a reference read from the job record has none until a
        worker fetched it from storage."""
        if self.local_path is None:
            raise ValueError(
                f"{self.kind.value} reference {self.index} ({self.storage_key}) has no local copy"
            )
        return self.local_path

    def with_local_path(self, path: Path) -> StoredReference:
        return replace(self, local_path=path)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "role": self.role.value,
            "index": self.index,
            "storage_key": self.storage_key,
            "sha256": self.sha256,
            "mime_type": self.mime_type,
            "bytes": self.bytes,
            "width": self.width,
            "height": self.height,
            "seconds": self.seconds,
            "fps": self.fps,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StoredReference:
        return cls(
            kind=ReferenceKind(d["kind"]),
            role=ReferenceRole(d["role"]),
            index=int(d["index"]),
            storage_key=d["storage_key"],
            sha256=d["sha256"],
            mime_type=d["mime_type"],
            bytes=int(d["bytes"]),
            width=d.get("width"),
            height=d.get("height"),
            seconds=d.get("seconds"),
            fps=d.get("fps"),
        )
