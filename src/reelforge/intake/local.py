"""References read in place from local files (`reelforge generate`, `reelforge evaluate`):
probed and checked as an upload is, and addressed by content as intake would store them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from reelforge.core.references import StoredReference
from reelforge.intake.limits import Limits
from reelforge.intake.probe import probe
from reelforge.spec import ReferenceKind, ReferenceRole


def content_key(sha256: str) -> str:
    """The storage key of a reference's bytes: identical bytes are stored once."""
    return f"refs/{sha256}"


def local_reference(
    path: Path,
    kind: ReferenceKind,
    *,
    role: ReferenceRole,
    index: int,
    param: str,
    position: int | None = None,
    limits: Limits | None = None,
) -> StoredReference:
    """`path` as the `index`-th reference of its kind (1-based), read where it is; errors name
    `param` (and `position`, the reference's place in the request)."""
    info = probe(path, kind, param=param, index=position, limits=limits)
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    sha = digest.hexdigest()
    return StoredReference(
        kind=kind, role=role, index=index, storage_key=content_key(sha), sha256=sha,
        mime_type=info.mime_type, bytes=path.stat().st_size, width=info.width,
        height=info.height, seconds=info.seconds, fps=info.fps, local_path=path,
    )  # fmt: skip
