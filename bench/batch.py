"""Batches: how many items a server-side batch renders per minute (issue 14).

`server_batch` runs a service in this process as `reelforge serve` runs it (API + workers,
SQLite, local storage, the preview engine warm in its own process; default settings unless
`--workers` says otherwise), uploads one reference image once, sends one batch of `--items`
requests of `--seconds` s at 480p that all name it by `file_id`, and times the batch from the
create request to its `completed_at`. Items per minute = items / that time.

    .venv/bin/python bench/batch.py                       # 100 items of 2 s 480p
    .venv/bin/python bench/batch.py --items 20 --workers 2
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

PROMPT = "@Image1 on a marble table, slow orbit, soft studio light"


def _product_png() -> bytes:
    """A 640x480 studio shot: a plain backdrop and an object (what catalog batches send)."""
    import numpy as np
    from PIL import Image

    img = np.full((480, 640, 3), 235, np.uint8)
    yy, xx = np.mgrid[0:480, 0:640]
    inside = ((xx - 320) / 140.0) ** 2 + ((yy - 250) / 170.0) ** 2 <= 1.0
    img[inside] = (180, 60, 40)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="PNG")
    return buf.getvalue()


def server_batch(items: int = 100, seconds: int = 2, workers: int | None = None) -> dict[str, Any]:
    """One batch of `items` requests through a service in this process; its figures."""
    from fastapi.testclient import TestClient

    from reelforge.api.app import create_app
    from reelforge.settings import Settings

    key = "rf_" + "b" * 40
    with tempfile.TemporaryDirectory() as tmp:
        extra: dict[str, Any] = {"worker_concurrency": workers} if workers else {}
        settings = Settings(
            data_dir=Path(tmp) / "data", bootstrap_key=key, print_admin_key=False,  # type: ignore[arg-type]
            default_model="preview", log_level="WARNING", max_active_jobs=max(10, workers or 1),
            **extra,
        )  # fmt: skip
        app = create_app(settings)
        with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
            upload = client.post("/v1/files", files={"file": ("product.png", _product_png())})
            file_id = upload.json()["id"]
            body = {
                "requests": [
                    {"custom_id": f"sku-{i}", "prompt": PROMPT, "seconds": seconds,
                     "resolution": "480p", "references": [{"type": "image", "file_id": file_id}]}
                    for i in range(items)
                ],
            }  # fmt: skip
            start = time.time()
            created = client.post("/v1/batches", json=body)
            assert created.status_code == 202, created.text
            accepted = time.time() - start
            batch_id = created.json()["id"]
            while True:
                batch = client.get(f"/v1/batches/{batch_id}").json()
                if batch["status"] in ("completed", "canceled"):
                    break
                time.sleep(0.5)
            # `completed_at` is whole seconds: time the end here too (polled every 0.5 s).
            wall = time.time() - start
            videos = [client.get(f"/v1/videos/{i['video_id']}").json() for i in batch["items"]]
        renders = sorted(v["completed_at"] - v["started_at"] for v in videos)
        return {
            "items": items,
            "seconds": seconds,
            "workers": settings.worker_concurrency,
            "max_active_jobs": settings.max_active_jobs,
            "completed": batch["request_counts"]["completed"],
            "create_ack_s": round(accepted, 3),
            "wall_s": round(wall, 1),
            "items_per_minute": round(items * 60.0 / wall, 1),
            "median_job_s": renders[len(renders) // 2],
            "cost": batch["usage"]["cost"],
            "cpus": os.cpu_count(),
            "load_avg_1m": round(os.getloadavg()[0], 1),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None, help="WORKER_CONCURRENCY")
    args = parser.parse_args()
    print(json.dumps({"server_batch": server_batch(args.items, args.seconds, args.workers)}))


if __name__ == "__main__":
    main()
