"""`reelforge batch` against a live service: a 200-row CSV with a budget that runs out after
six 1 s 480p items; rerunning the same command resumes without a second job or charge."""

from __future__ import annotations

import csv
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import av
import httpx
import pytest

from reelforge import Client
from tests.client.live_service import product_png, run_service
from tests.conftest import ADMIN_KEY

BIN = Path(sys.executable).parent
TEMPLATE = "{product} on a marble table, slow orbit, @Image1"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from run_service(tmp_path_factory.mktemp("batch-cli") / "data")


def _batch(url: str, rows: Path, out: Path, budget: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "reelforge"), "--url", url, "--api-key", ADMIN_KEY, "batch", str(rows),
         "--template", TEMPLATE, "--seconds", "1", "--resolution", "480p", "--no-audio",
         "--budget", f"{budget}", "--out", str(out), "--concurrency", "4",
         "--poll-interval", "0.2"],
        capture_output=True, text=True, timeout=240,
    )  # fmt: skip


def _manifest(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_budget_runs_out_midway_and_a_rerun_resumes_without_paying_twice(
    server: str, tmp_path: Path
) -> None:
    assets = tmp_path / "assets"
    assets.mkdir()
    product_png(assets / "mug.png")
    product_png(assets / "vase.png", (40, 90, 170))
    rows = tmp_path / "products.csv"
    with rows.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sku", "product", "images"])
        for i in range(200):
            writer.writerow(
                [f"sku-{i:03d}", f"ceramic piece {i}", f"assets/{['mug', 'vase'][i % 2]}.png"]
            )

    with Client(server, api_key=ADMIN_KEY) as rf:
        (preview,) = (m for m in rf.models() if m.id == "preview")
        price = preview.price_per_second("480p")
        assert price
        budget = round(6.5 * price, 4)  # admits six 1 s items, not seven
        out = tmp_path / "out"

        first = _batch(server, rows, out, budget)
        assert first.returncode == 3, first.stderr  # none failed, some skipped for the budget
        assert "admits 6 of them" in first.stderr
        records = _manifest(out / "manifest.csv")
        assert [int(r["row"]) for r in records] == list(range(1, 201))  # every row, in order
        assert Counter(r["status"] for r in records) == {"completed": 6, "skipped.budget": 194}
        done = [r for r in records if r["status"] == "completed"]
        assert [r["name"] for r in done] == [f"sku-{i:03d}" for i in range(6)]  # rows in order
        for r in done:
            assert float(r["cost"]) == pytest.approx(price)
            with av.open(r["output"]) as container:
                assert container.streams.video[0].codec_context.height == 480
        skipped = records[6]
        assert (skipped["video_id"], skipped["output"], skipped["cost"]) == ("", "", "")
        usage = rf.usage()
        assert usage.videos == 6
        assert usage.total_cost == pytest.approx(6 * price) and usage.total_cost <= budget

        again = _batch(server, rows, out, budget)
        assert again.returncode == 3, again.stderr
        assert "admits 0 of them" in again.stderr
        records_again = _manifest(out / "manifest.csv")
        assert [(r["status"], r["video_id"]) for r in records_again] == [
            (r["status"], r["video_id"]) for r in records
        ]
        usage_again = rf.usage()
        assert (usage_again.videos, usage_again.total_cost) == (6, usage.total_cost)
        assert len(list(out.glob("*.mp4"))) == 6


def test_rows_that_cannot_be_made_fail_alone_and_set_the_exit_status(
    server: str, tmp_path: Path
) -> None:
    product_png(tmp_path / "mug.png")
    rows = tmp_path / "rows.jsonl"
    rows.write_text(
        '{"sku": "ok", "product": "a mug", "images": ["mug.png"]}\n'
        '{"sku": "no-file", "product": "a cup", "images": ["missing.png"]}\n'
        '{"sku": "no-column", "images": ["mug.png"]}\n'
        '{"sku": "bad-seconds", "product": "a bowl", "images": "mug.png", "seconds": 99}\n'
    )
    out = tmp_path / "out"
    done = _batch(server, rows, out, 5.0)
    assert done.returncode == 1, done.stderr
    records = {r["name"]: r for r in _manifest(out / "manifest.csv")}
    assert records["ok"]["status"] == "completed" and Path(records["ok"]["output"]).exists()
    assert (records["no-file"]["status"], records["no-file"]["error_code"]) == (
        "failed", "reference.not_found")  # fmt: skip
    assert records["no-column"]["error_code"] == "template.missing_column"
    assert records["bad-seconds"]["status"] == "failed"  # refused by the quote, never submitted
    assert records["bad-seconds"]["error_code"].startswith("invalid_request")
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as http:
        listed = http.get("/v1/videos", params={"limit": 100}).json()["data"]
    assert sum(v["prompt"].startswith("a bowl") for v in listed) == 0
