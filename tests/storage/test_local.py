"""LocalStorage: the contract, keys that could escape the root, atomic puts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from reelforge.errors import InvalidRequest, NotFound
from reelforge.storage.local import LocalStorage
from reelforge.storage.registry import open_storage
from tests.conftest import make_settings
from tests.storage.contract import BAD_KEYS, check_contract


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "store")


def test_contract(storage: LocalStorage, tmp_path: Path) -> None:
    check_contract(storage, tmp_path)


def test_registry_opens_file_urls(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    opened = open_storage(settings.resolved_storage_url, settings, settings.data_dir / "cache")
    assert isinstance(opened, LocalStorage)
    assert opened.root == (tmp_path / "data" / "storage").resolve()
    with pytest.raises(ValueError, match="not supported"):
        open_storage("ftp://host/x", settings, settings.data_dir / "cache")


@pytest.mark.parametrize("key", BAD_KEYS)
def test_traversal_and_odd_keys_are_refused(storage: LocalStorage, key: str) -> None:
    outside = storage.root.parent / "x"
    for call in (
        lambda: storage.put_bytes(key, b"x"),
        lambda: storage.exists(key),
        lambda: storage.local_path(key),
        lambda: storage.size(key),
        lambda: storage.delete_prefix(key),
        lambda: list(storage.open_chunks(key)),
    ):
        with pytest.raises(InvalidRequest) as info:
            call()
        assert info.value.code == "invalid_request.storage_key"
    assert not outside.exists()


def test_a_symlink_out_of_the_root_is_not_followed(storage: LocalStorage, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    (storage.root / "refs").mkdir()
    os.symlink(secret, storage.root / "refs" / "link")
    with pytest.raises(NotFound):
        storage.local_path("refs/link")
    with pytest.raises(NotFound):
        storage.put_bytes("refs/link", b"overwrite")
    assert secret.read_text() == "private"


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".tmp-")]


def test_failed_put_file_leaves_no_temp_file_and_keeps_the_old_object(
    storage: LocalStorage, tmp_path: Path
) -> None:
    storage.put_bytes("outputs/j/video.mp4", b"old")
    with pytest.raises(FileNotFoundError):
        storage.put_file("outputs/j/video.mp4", tmp_path / "missing.mp4")
    assert storage.local_path("outputs/j/video.mp4").read_bytes() == b"old"
    assert _leftovers(storage.root) == []


def test_failed_put_bytes_leaves_no_temp_file(storage: LocalStorage) -> None:
    with pytest.raises(TypeError):
        storage.put_bytes("refs/new", "not bytes")  # type: ignore[arg-type]
    assert not storage.exists("refs/new")
    assert _leftovers(storage.root) == []


def test_local_storage_has_no_download_url(storage: LocalStorage) -> None:
    storage.put_bytes("outputs/j/video.mp4", b"x")
    assert storage.download_url("outputs/j/video.mp4", 60, "j.mp4", "video/mp4") is None
