"""GET /v1/models lists every engine and model name with its readiness, limits and prices; an
engine that cannot render is refused at create and at quote, before anything is fetched."""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from reelforge.api.app import create_app
from reelforge.engines.registry import EngineRegistry
from tests.conftest import ADMIN_KEY, make_settings

BODY = {"model": "wan-vace", "prompt": "x", "seconds": 1, "size": "854x480"}


@pytest.fixture
def app_with_engines(tmp_path: Path) -> Iterator[TestClient]:
    """The real engine table from settings: preview ready, diffusion engines without weights."""
    settings = make_settings(
        tmp_path / "data",
        default_model="preview",
        engine_wan_vace_model=str(tmp_path / "no-such-checkpoint"),
    )
    app = create_app(settings, engines=EngineRegistry(settings=settings))
    with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
        yield client


def _by_id(client: TestClient) -> dict[str, dict[str, Any]]:
    r = client.get("/v1/models")
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "list"
    return {m["id"]: m for m in body["data"]}


def test_models_list_engines_and_aliases_with_limits_and_prices(
    app_with_engines: TestClient,
) -> None:
    models = _by_id(app_with_engines)
    assert {"preview", "wan-vace", "ltx2", "minimax-h3"} <= set(models)
    preview = models["preview"]
    assert preview["ready"] is True and preview["reason"] is None
    assert preview["accepts"]["references"] == {
        "image": 9,
        "video": 3,
        "audio": 3,
        "model_sees": None,
    }
    # Past the hosted limits (issue 16 item 6): 4K, 60 s by continuation, alpha output.
    assert preview["accepts"]["resolutions"] == ["480p", "720p", "1080p", "2160p"]
    assert set(preview["pricing"]["per_second"]) == {"480p", "720p", "1080p", "2160p"}
    assert preview["pricing"]["per_second"]["2160p"] > preview["pricing"]["per_second"]["1080p"]
    assert preview["accepts"]["seconds"] == {"min": 1, "max": 60, "auto": True}
    assert preview["accepts"]["alpha"] is True
    assert preview["accepts"]["codecs"] == ["h264", "h265", "prores_4444", "vp9"]
    wan = models["wan-vace"]
    assert wan["ready"] is False and "engine_wan_vace_model" in wan["reason"]
    # A diffusion engine keeps the hosted limits: no 2160p, 15 s, no alpha.
    assert wan["accepts"]["resolutions"] == ["480p", "720p", "1080p"]
    assert set(wan["pricing"]["per_second"]) == {"480p", "720p", "1080p"}
    assert wan["accepts"]["seconds"]["max"] == 15
    assert wan["accepts"]["alpha"] is False and wan["accepts"]["codecs"] == ["h264", "h265"]
    assert wan["accepts"]["references"]["video"] == 1
    assert [p["name"] for p in wan["details"]["presets"]][:2] == ["fast", "pro"]
    assert models["minimax-h3"]["accepts"]["references"]["model_sees"] == 12
    # An engine's own presets are model names too.
    assert app_with_engines.get("/v1/models/ltx2:two_stage").json()["preset"] == "two_stage"
    # Hosted model ids resolve to the default engine and say so.
    seedance = models["seedance-2.0"]
    assert seedance["kind"] == "alias" and seedance["engine"] == "preview"
    assert seedance["ready"] is True
    one = app_with_engines.get("/v1/models/dreamina-seedance-2-0-260128").json()
    assert one["engine"] == "preview"
    unknown = app_with_engines.get("/v1/models/no-such-model")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "invalid_request.unknown_model"


def test_an_engine_that_cannot_render_is_refused_at_create_and_quote(
    app_with_engines: TestClient,
) -> None:
    before = app_with_engines.get("/v1/videos").json()["data"]
    for path in ("/v1/videos", "/v1/videos/quote"):
        r = app_with_engines.post(path, json=BODY)
        assert r.status_code == 400, r.text
        error = r.json()["error"]
        assert error["code"] == "model_not_available" and error["param"] == "model"
        assert "engine_wan_vace_model" in error["message"]
    assert app_with_engines.get("/v1/videos").json()["data"] == before  # no job was made
    # The Ark dialect refuses it too, in its own shape.
    ark = app_with_engines.post(
        "/api/v3/contents/generations/tasks",
        json={"model": "wan-vace", "content": [{"type": "text", "text": "x"}]},
    )
    assert ark.status_code == 400 and ark.json()["error"]["reelforge_code"] == "model_not_available"


def test_without_the_diffusion_extra_the_hint_is_the_install_command(
    app_with_engines: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine without torch/diffusers/transformers: the diffusion engines are not ready and
    say how to install them (the packages are hidden from the import system's lookup)."""
    real = importlib.util.find_spec
    hidden = {"torch", "diffusers", "transformers"}

    def find_spec(name: str, *args: Any, **kwargs: Any) -> Any:
        return None if name in hidden else real(name, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    # A fresh app: readiness is cached per process for a while.
    models = _by_id(app_with_engines)
    for name in ("ltx2", "minimax-h3"):
        assert models[name]["ready"] is False
        assert "pip install 'reelforge[diffusion]'" in models[name]["reason"], models[name]
    r = app_with_engines.post("/v1/videos", json={**BODY, "model": "ltx2"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "model_not_available"


def test_models_need_a_key(app_with_engines: TestClient) -> None:
    assert app_with_engines.get("/v1/models", headers={"Authorization": ""}).status_code == 401
