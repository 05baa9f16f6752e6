"""Limits are settings: the same fields and defaults as `Limits`, read from the environment,
used by the app, and documented one by one in docs/api/limits.md."""

from __future__ import annotations

import base64
import dataclasses
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from reelforge.api.app import create_app
from reelforge.intake import references as references_module
from reelforge.intake.limits import LIMIT_FIELDS, Limits, LimitsSettings
from reelforge.settings import Settings
from tests.conftest import ADMIN_KEY, make_settings
from tests.fixtures.engines.basic import fixture_registry

DOC = Path(__file__).resolve().parents[2] / "docs" / "api" / "limits.md"
Corpus = dict[str, bytes]


def test_settings_mirror_the_dataclass() -> None:
    assert tuple(LimitsSettings.model_fields) == LIMIT_FIELDS
    assert LimitsSettings().to_limits() == Limits()


def test_limits_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REELFORGE_LIMITS__MAX_IMAGES", "5")
    monkeypatch.setenv("REELFORGE_LIMITS__MAX_VIDEO_SECONDS", "10.5")
    monkeypatch.setenv("REELFORGE_LIMITS__IMAGE_FORMATS", '["PNG","JPEG"]')
    limits = Settings().limits.to_limits()
    assert limits.max_images == 5
    assert limits.max_video_seconds == 10.5
    assert limits.image_formats == ("PNG", "JPEG")
    assert limits.max_videos == Limits().max_videos


def test_inconsistent_limits_are_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="min_image_side"):
        LimitsSettings(min_image_side=7000)
    with pytest.raises(ValidationError):
        LimitsSettings(max_imagez=3)  # type: ignore[call-arg]


def test_every_limit_is_documented_with_its_setting() -> None:
    text = DOC.read_text()
    for name in LIMIT_FIELDS:
        assert f"REELFORGE_LIMITS__{name.upper()}" in text, name


def test_every_error_code_in_the_intake_is_documented() -> None:
    text = DOC.read_text()
    src = Path(references_module.__file__).parent
    codes: set[str] = set()
    for path in src.glob("*.py"):
        body = path.read_text()
        codes |= set(re.findall(r'"(invalid_(?:reference|request)\.[a-z0-9_]+)"', body))
        codes |= {f"invalid_reference.{c}" for c in re.findall(
            r'reference_error\(\s*"([a-z_]+)"', body)}  # fmt: skip
    codes |= {f"invalid_reference.{k}_{s}" for k in ("image", "video", "audio")
              for s in ("file_too_large",)}  # fmt: skip
    codes |= {f"invalid_reference.{k}_too_{s}" for k in ("video", "audio")
              for s in ("long", "short")}  # fmt: skip
    codes |= {f"invalid_reference.{c}" for c in (
        "too_many_images", "too_many_videos", "too_many_audios", "videos_total_too_large",
        "videos_total_too_long", "audio_total_too_long")}  # fmt: skip
    missing = sorted(c for c in codes if f"`{c}`" not in text)
    assert not missing, missing


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_the_app_uses_the_configured_limits(tmp_path: Path, corpus: Corpus) -> None:
    limits = LimitsSettings(max_images=2, max_image_bytes=5_000)
    settings = make_settings(tmp_path / "data", limits=limits)
    app = create_app(settings, engines=fixture_registry())
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        three = [{"type": "image", "data": _b64(corpus["png"])}] * 3
        r = client.post("/v1/videos/quote", json={"prompt": "x", "references": three})
        assert r.json()["error"]["code"] == "invalid_reference.too_many_images"
        assert "at most 2" in r.json()["error"]["message"]
        big = [{"type": "image", "data": _b64(corpus["png"])}]
        assert len(corpus["png"]) > 5_000
        r = client.post("/v1/videos/quote", json={"prompt": "x", "references": big})
        assert r.status_code == 413
        err = r.json()["error"]
        assert (err["code"], err["param"]) == ("invalid_reference.image_file_too_large",
                                               "references[0]")  # fmt: skip
        assert "5,000 bytes" in err["message"]


def test_same_reference_is_probed_and_stored_once(
    client: TestClient, settings: Settings, corpus: Corpus, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real_probe = references_module.probe

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(str(args[1]))
        return real_probe(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(references_module, "probe", counting)
    refs = [
        {"type": "image", "data": _b64(corpus["png"])},
        {"type": "image", "data": _b64(corpus["png"])},
        {"type": "video", "data": _b64(corpus["mp4_3s"])},
    ]
    for _ in range(3):
        r = client.post("/v1/videos/quote", json={"prompt": "@Image2", "references": refs})
        assert r.status_code == 200, r.text
    assert sorted(calls) == ["image", "video"]
    stored = sorted(p.name for p in (settings.data_dir / "storage" / "refs").iterdir())
    assert len(stored) == 2
    shas = {ref["sha256"] for ref in r.json()["references"]}
    assert shas == set(stored)


def test_a_refused_request_stores_nothing(
    client: TestClient, settings: Settings, corpus: Corpus
) -> None:
    refs = [{"type": "video", "data": _b64(corpus[k])} for k in ("mp4_10s", "mp4_8s")]
    r = client.post("/v1/videos", json={"prompt": "x", "references": refs})
    assert r.json()["error"]["code"] == "invalid_reference.videos_total_too_long"
    refs_dir = settings.data_dir / "storage" / "refs"
    assert not refs_dir.exists() or not any(refs_dir.iterdir())


def test_limits_dataclass_is_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        Limits().max_images = 3  # type: ignore[misc]
