"""How `reelforge batch` turns rows into items, without a server: templates, reference bundles
from paths, URLs and folders, idempotency keys that follow the content (stable across runs,
distinct for repeated rows), and the manifest in both formats."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from reelforge.cli.batch_rows import (
    Item,
    plan_items,
    read_manifest,
    read_rows,
    write_manifest,
)
from reelforge.client.files import FileCache


def _plan(rows: Sequence[dict[str, Any]], base: Path, **kw: Any) -> list[Item]:
    options: dict[str, Any] = {
        "template": "{product}, slow orbit, @Image1",
        "ref_columns": ["images"],
        "bundles": [],
        "defaults": {"seconds": 1, "resolution": "480p"},
    }
    options.update(kw)
    return plan_items(rows, base=base, files=FileCache(), **options)


def test_rows_become_items_with_content_keys(tmp_path: Path) -> None:
    (tmp_path / "bundle").mkdir()
    for name in ("b.png", "a.jpg", "notes.txt", "c.wav"):
        (tmp_path / "bundle" / name).write_bytes(name.encode())
    (tmp_path / "mug.png").write_bytes(b"mug")
    rows = [
        {"sku": "A 1", "product": "a mug", "images": "mug.png; https://cdn.test/x.mp4?s=1"},
        {"sku": "A 1", "product": "a mug", "images": "mug.png; https://cdn.test/x.mp4?s=1"},
        {"sku": "B", "product": "a bowl", "images": "bundle", "seconds": "3", "seed": "9"},
    ]
    first, repeat, third = _plan(rows, tmp_path)
    assert first.prompt == "a mug, slow orbit, @Image1" and first.name == "A-1"
    assert repeat.name == "A-1-2"  # unique output names
    assert [(r.kind, Path(r.source).name) for r in first.refs] == [
        ("image", "mug.png"), ("video", "x.mp4?s=1")]  # fmt: skip
    assert first.key != repeat.key  # a repeated row is its own job
    assert [(r.kind, Path(r.source).name) for r in third.refs] == [
        ("image", "a.jpg"), ("image", "b.png"), ("audio", "c.wav")]  # fmt: skip
    assert third.options == {"seconds": 3, "resolution": "480p", "seed": 9}
    # The same file planned again gives the same keys (a rerun resumes) ...
    assert [i.key for i in _plan(rows, tmp_path)] == [first.key, repeat.key, third.key]
    # ... and a changed reference file gives a new one.
    (tmp_path / "mug.png").write_bytes(b"another mug")
    assert _plan(rows, tmp_path)[0].key != first.key


@pytest.mark.parametrize(
    ("row", "code"),
    [
        ({"sku": "x", "images": "mug.png"}, "template.missing_column"),
        ({"sku": "x", "product": "p", "images": "nope.png"}, "reference.not_found"),
        ({"sku": "x", "product": "p", "images": "", "seed": "abc"}, "row.seed"),
    ],
)
def test_rows_that_cannot_become_requests_fail_alone(
    tmp_path: Path, row: dict[str, str], code: str
) -> None:
    (tmp_path / "mug.png").write_bytes(b"mug")
    bad, good = _plan([row, {"sku": "y", "product": "p", "images": "mug.png"}], tmp_path)
    assert (bad.status, bad.error_code) == ("failed", code) and not bad.key
    assert good.status == "pending" and good.key


@pytest.mark.parametrize("name", ["manifest.csv", "manifest.jsonl"])
def test_manifest_round_trip(tmp_path: Path, name: str) -> None:
    rows_file = tmp_path / "rows.jsonl"
    rows_file.write_text('{"sku": "a", "product": "p", "images": ["mug.png"]}\n\n')
    (tmp_path / "mug.png").write_bytes(b"mug")
    (item,) = _plan(read_rows(rows_file), tmp_path)
    item.status, item.video_id, item.cost = "completed", "video_1", 0.14
    write_manifest(tmp_path / name, [item])
    record = read_manifest(tmp_path / name)[item.key]
    assert (record["status"], record["video_id"], float(record["cost"])) == (
        "completed", "video_1", 0.14)  # fmt: skip
