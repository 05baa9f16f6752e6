"""The examples (examples/) run as a person runs them, one command each, against a live
service with their bundled images; 1 s silent 480p jobs to keep the suite fast."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import av
import pytest
from PIL import Image

from tests.client.live_service import run_service
from tests.conftest import ADMIN_KEY

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from run_service(tmp_path_factory.mktemp("examples") / "data")


def _run(server: str, name: str, out: Path, *extra: str) -> str:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), "--url", server, "--api-key", ADMIN_KEY,
         "--out", str(out), "--seconds", "1", "--resolution", "480p", "--no-audio", *extra],
        capture_output=True, text=True, timeout=240, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _seconds(path: Path) -> float:
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        return stream.frames / float(stream.average_rate or 24)


def test_catalog_from_a_csv_as_one_budgeted_batch(server: str, tmp_path: Path) -> None:
    _run(server, "catalog.py", tmp_path, "--max-cost", "2")
    with (tmp_path / "results.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["sku"] for r in rows] == ["MUG-001", "LMP-002", "VAS-003"]
    for row in rows:
        assert row["status"] == "completed" and _seconds(Path(row["file"])) == pytest.approx(1)


def test_ab_variants_four_seeds_and_a_contact_sheet(server: str, tmp_path: Path) -> None:
    out = _run(server, "ab_variants.py", tmp_path, "--seed", "7")
    assert "4 takes" in out
    sheet = Image.open(tmp_path / "contact_sheet.png")
    assert sheet.width > 4 * 320 and sheet.height > 100
    assert sorted(p.name for p in tmp_path.glob("take*.mp4")) == [f"take{i}.mp4" for i in range(4)]


def test_greetings_one_per_user_row(server: str, tmp_path: Path) -> None:
    out = _run(server, "greetings.py", tmp_path, "--users", "2")
    assert sorted(p.name for p in tmp_path.glob("*.mp4")) == ["ana.mp4", "ben.mp4"]
    assert "ana: 1 videos" in out and "ben: 1 videos" in out


def test_chained_shots_make_one_longer_video(server: str, tmp_path: Path) -> None:
    _run(server, "chain_shots.py", tmp_path, "--shots", "2")
    story = tmp_path / "story.mp4"
    assert _seconds(story) == pytest.approx(2 * _seconds(tmp_path / "shot1.mp4"))
    with av.open(str(story)) as c:
        assert c.streams.video[0].codec_context.height == 480


def test_the_catalog_through_reelforge_batch_as_the_readme_says(
    server: str, tmp_path: Path
) -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "reelforge"), "--url", server, "--api-key", ADMIN_KEY,
         "batch", "examples/catalog/products.csv", "--refs", "images",
         "--bundle", "examples/assets/brand_logo.png",
         "--bundle", "examples/assets/brand_palette.png",
         "--template", "{product} on a marble table, slow orbit, @Image1, brand colours of @Image3",
         "--budget", "0.2", "--seconds", "1", "--resolution", "480p", "--no-audio",
         "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=240, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr  # the budget admits the first product only
    with (tmp_path / "manifest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    statuses = [(r["name"], r["status"]) for r in rows]
    assert statuses == [
        ("MUG-001", "completed"),
        ("LMP-002", "skipped.budget"),
        ("VAS-003", "skipped.budget"),
    ]
    assert Path(rows[0]["output"]).exists()
