"""The Storage contract, checked the same way against every backend."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelforge.errors import NotFound
from reelforge.storage.base import Storage


def check_contract(storage: Storage, tmp_path: Path) -> None:
    source = tmp_path / "thumb.jpg"
    source.write_bytes(b"jpeg bytes")
    storage.put_bytes("outputs/job_1/video.mp4", b"v" * 10)
    storage.put_file("outputs/job_1/thumbnail.jpg", source)
    storage.put_bytes("outputs/job_10/video.mp4", b"other job")
    storage.put_bytes("refs/abc", b"reference")

    assert storage.exists("outputs/job_1/video.mp4")
    assert storage.exists("outputs/job_1/thumbnail.jpg")
    assert not storage.exists("outputs/job_1")  # a "folder" is not an object
    assert not storage.exists("outputs/job_2/video.mp4")
    assert storage.size("outputs/job_1/video.mp4") == 10
    assert storage.size("outputs/job_1/thumbnail.jpg") == len(b"jpeg bytes")
    chunks = list(storage.open_chunks("outputs/job_1/video.mp4", chunk_size=3))
    assert b"".join(chunks) == b"v" * 10
    assert all(0 < len(c) <= 3 for c in chunks)
    assert storage.local_path("refs/abc").read_bytes() == b"reference"

    storage.put_bytes("refs/abc", b"replaced")  # a put replaces the object whole
    assert b"".join(storage.open_chunks("refs/abc")) == b"replaced"
    assert storage.local_path("refs/abc").read_bytes() == b"replaced"

    for missing in ("outputs/job_2/video.mp4", "refs/zzz"):
        with pytest.raises(NotFound):
            storage.size(missing)
        with pytest.raises(NotFound):
            storage.local_path(missing)
        with pytest.raises(NotFound):
            list(storage.open_chunks(missing))

    storage.delete_prefix("outputs/job_1")
    assert not storage.exists("outputs/job_1/video.mp4")
    assert not storage.exists("outputs/job_1/thumbnail.jpg")
    assert storage.exists("outputs/job_10/video.mp4")  # a sibling with a longer name stays
    assert storage.exists("refs/abc")
    storage.delete_prefix("outputs/job_1")  # deleting what is gone is fine
    storage.delete_prefix("refs/abc")  # a prefix may name one object
    assert not storage.exists("refs/abc")
    assert storage.exists("outputs/job_10/video.mp4")


BAD_KEYS = ("../x", "/etc/passwd", "a/../../b", "a//b", "", ".hidden", "a/b\\c", "a b", "a/./b")
