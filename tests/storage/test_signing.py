"""Signed links: one secret for every process, created whole, verified strictly."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelforge.storage.signing import UrlSigner, signing_secret


def test_secret_from_settings_is_shared_and_checked(tmp_path: Path) -> None:
    a = UrlSigner(signing_secret("s" * 40, tmp_path / "a"), 60)
    b = UrlSigner(signing_secret("s" * 40, tmp_path / "b"), 60)
    expires, sig = a.sign("video_1/video", now=1000)
    assert b.verify("video_1/video", expires, sig, now=1001)
    with pytest.raises(ValueError):
        signing_secret("short", tmp_path / "c")


def test_secret_file_is_created_once(tmp_path: Path) -> None:
    first = signing_secret(None, tmp_path / "signing_key")
    assert signing_secret(None, tmp_path / "signing_key") == first
    assert len(first) == 32
    assert [p.name for p in tmp_path.iterdir()] == ["signing_key"]


def test_verify_refuses_expired_tampered_and_malformed(tmp_path: Path) -> None:
    signer = UrlSigner(signing_secret(None, tmp_path / "k"), 60)
    expires, sig = signer.sign("video_1/video", now=1000)
    assert not signer.verify("video_1/video", expires, sig, now=expires + 1)
    assert not signer.verify("video_1/thumbnail", expires, sig, now=1001)
    assert not signer.verify("video_1/video", expires, "é" * 40, now=1001)
    assert not signer.verify("video_1/video", expires + 1, sig, now=1001)
