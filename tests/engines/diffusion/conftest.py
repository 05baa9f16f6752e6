"""Tiny diffusion checkpoints, built once per session, and apps that serve them on the CPU."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

pytest.importorskip("diffusers", reason="needs the diffusion extra: pip install -e '.[diffusion]'")

os.environ.setdefault("HF_HUB_OFFLINE", "1")

from reelforge.api.app import create_app
from tests.conftest import ADMIN_KEY, make_settings
from tests.engines.diffusion.tiny import build_ltx2, build_minimax_h3, build_wan_vace

# Every engine runs on the CPU in float32, 2 steps, on a canvas with a 32 px short edge; the
# output is then fitted to the asked size (480p here), exactly as on a GPU.
TINY_ENGINE_SETTINGS: dict[str, object] = {
    "engine_device": "cpu",
    "engine_dtype": "float32",
    "engine_steps": 2,
    "engine_guidance_scale": 1.0,
    "engine_max_short_edge": 32,
    "engine_local_files_only": True,
}


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("tiny-diffusion")
    return {
        "wan-vace": build_wan_vace(root / "wan-vace"),
        "ltx2": build_ltx2(root / "ltx2"),
    }


@pytest.fixture(scope="session")
def tiny_h3(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny MiniMax-H3 modular checkpoint (its own fixture: only the H3 tests pay for it)."""
    return build_minimax_h3(tmp_path_factory.mktemp("tiny-h3") / "minimax-h3")


@pytest.fixture
def diffusion_app(tmp_path: Path) -> Callable[..., object]:
    """`with diffusion_app(default_model=..., engine_wan_vace_model=...) as client:` a fresh app
    with the real engine registry (built from settings) and the tiny-engine settings."""

    @contextmanager
    def make(**overrides: object) -> Iterator[TestClient]:
        values = {**TINY_ENGINE_SETTINGS, **overrides}
        settings = make_settings(tmp_path / "data", **values)
        app = create_app(settings)
        with TestClient(app, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as client:
            yield client

    return make


def png_data_uri(w: int, h: int, colour: tuple[int, int, int]) -> str:
    pixels = np.empty((h, w, 3), np.uint8)
    pixels[:] = colour
    pixels[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4] = [c // 3 for c in colour]  # a subject
    img = Image.fromarray(pixels)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
