"""A reference after intake: its bytes stored under `storage_key`, its header probed."""

from __future__ import annotations

from dataclasses import dataclass
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
