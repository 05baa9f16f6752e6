"""Storage backends by URL scheme (explicit registry, no discovery)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse

from reelforge.storage.base import Storage
from reelforge.storage.local import LocalStorage


def _local(url: str) -> Storage:
    return LocalStorage(Path(urlparse(url).path))


BACKENDS: dict[str, Callable[[str], Storage]] = {"file": _local}


def open_storage(url: str) -> Storage:
    scheme = urlparse(url).scheme or "file"
    try:
        factory = BACKENDS[scheme]
    except KeyError:
        raise ValueError(
            f"storage URL scheme {scheme!r} is not supported (known: {sorted(BACKENDS)})"
        ) from None
    return factory(url)
