"""`reelforge generate` past the hosted limits (issue 16 item 6): `--alpha --codec vp9` writes a
WebM whose alpha plane is transparent where no subject is; an alpha codec without `--alpha` is
refused naming the rule, before anything renders."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from reelforge.cli import app
from reelforge.media.alpha import read_alpha
from tests.media_helpers import red_mask, studio_figure, write_image

runner = CliRunner()


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REELFORGE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("REELFORGE_DEFAULT_MODEL", "preview")
    monkeypatch.setenv("NO_COLOR", "1")


def test_generate_alpha_writes_a_transparent_webm(tmp_path: Path) -> None:
    figure = write_image(tmp_path / "figure.png", studio_figure(480, 360))
    out = tmp_path / "clip.webm"
    result = runner.invoke(
        app,
        ["generate", "--prompt", "@Image1 bounces", "-o", str(out), "--image", str(figure),
         "--seconds", "1", "--resolution", "480p", "--aspect-ratio", "4:3", "--alpha",
         "--codec", "vp9", "--no-audio"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    with av.open(str(out)) as container:
        assert container.format.name.startswith("matroska")  # WebM
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 480)
        assert stream.metadata.get("alpha_mode") == "1"
    frames = list(read_alpha(out))
    assert len(frames) == 24
    alpha = frames[12][:, :, 3]
    assert (red_mask(frames[12][:, :, :3]) & (alpha > 200)).any()
    assert alpha[:8, :].max() <= 16 and alpha[:, :8].max() <= 16  # the edges: no plate
    assert np.mean(alpha <= 4) > 0.5


def test_an_alpha_codec_without_alpha_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "clip.mov"
    result = runner.invoke(
        app, ["generate", "--prompt", "x", "-o", str(out), "--codec", "prores_4444"]
    )
    assert result.exit_code == 1
    assert "invalid_request.alpha" in result.output and "alpha" in result.output
    assert not out.exists()
