"""One real `reelforge serve` process per test module for the SDK, CLI and examples tests: the
preview engine by default (1 s 480p jobs), no quality reports, room for 30 active jobs."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from tests.live import free_port, start_service


def run_service(data_dir: Path, **env: str) -> Iterator[str]:
    port = free_port()
    settings = {"DEFAULT_MODEL": "preview", "QUALITY_REPORTS": "false", "MAX_ACTIVE_JOBS": "30",
                "CREATES_PER_MINUTE": "1000", "WORKER_CONCURRENCY": "2", **env}  # fmt: skip
    proc = start_service(data_dir, port, **settings)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)


def product_png(path: Path, color: tuple[int, int, int] = (180, 40, 40)) -> Path:
    """A 320x320 studio shot: a plain backdrop and one object (about 1 KB)."""
    img = Image.new("RGB", (320, 320), (230, 225, 210))
    ImageDraw.Draw(img).ellipse((90, 80, 230, 260), fill=color)
    img.save(path, optimize=True)
    assert np.asarray(Image.open(path)).shape == (320, 320, 3)
    return path
