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


def sdk_overhead(jobs: int = 50) -> dict[str, Any]:
    """The SDK's cost per job on top of raw HTTP (issue 14): the same create (a reference by
    `file_id`) and the same read of the Video object, `jobs` times each way, against a real
    `reelforge serve` process on loopback with its workers off (nothing renders, so only the
    request path is timed), the two taken in turns. Raw: one `httpx.Client`, hand-built JSON
    with an `Idempotency-Key` (as a careful client sends). SDK: `reelforge.Client` (a local
    path de-duplicated to the uploaded file by its SHA-256, a key made per create, the retry
    policy around each request, the answers parsed into `Video`s). Reported: median wall ms
    per job and client CPU ms per job."""
    import signal
    import statistics
    import subprocess

    import httpx

    from reelforge import Client

    key = "rf_" + "s" * 40
    with tempfile.TemporaryDirectory() as tmp:
        image = Path(tmp) / "product.png"
        image.write_bytes(_product_png())
        port = _free_port()
        env = {**os.environ, "REELFORGE_DATA_DIR": f"{tmp}/data", "REELFORGE_PORT": str(port),
               "REELFORGE_BOOTSTRAP_KEY": key, "REELFORGE_PRINT_ADMIN_KEY": "false",
               "REELFORGE_RUN_WORKERS": "false", "REELFORGE_LOG_LEVEL": "WARNING",
               "REELFORGE_CREATES_PER_MINUTE": "100000",
               "REELFORGE_MAX_ACTIVE_JOBS": "100000"}  # fmt: skip
        serve = [sys.executable, "-c", "from reelforge.cli import main; main()", "serve"]
        proc = subprocess.Popen(serve, env=env)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 60
            while time.time() < deadline:
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            auth = {"Authorization": f"Bearer {key}"}
            with httpx.Client(base_url=base, headers=auth) as http, Client(base, api_key=key) as rf:
                file_id = rf.upload_file(image).id

                def raw(i: int) -> None:
                    body = {"prompt": f"{PROMPT} raw {i}", "seconds": 1, "resolution": "480p",
                            "references": [{"type": "image", "file_id": file_id}]}  # fmt: skip
                    created = http.post(
                        "/v1/videos", json=body, headers={"Idempotency-Key": f"raw-{i}"}
                    )
                    assert created.status_code == 202, created.text
                    http.get(f"/v1/videos/{created.json()['id']}").json()

                def sdk(i: int) -> None:
                    video = rf.create_video(
                        f"{PROMPT} sdk {i}", images=[image], seconds=1, resolution="480p"
                    )
                    rf.get_video(video.id)

                (raw_wall, raw_cpu), (sdk_wall, sdk_cpu) = _timed_pair(raw, sdk, jobs)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
    med_raw, med_sdk = statistics.median(raw_wall), statistics.median(sdk_wall)
    return {
        "jobs": jobs,
        "raw_ms_per_job": round(med_raw * 1000, 2),
        "sdk_ms_per_job": round(med_sdk * 1000, 2),
        "overhead_ms_per_job": round((med_sdk - med_raw) * 1000, 2),
        "raw_client_cpu_ms_per_job": round(raw_cpu * 1000 / jobs, 2),
        "sdk_client_cpu_ms_per_job": round(sdk_cpu * 1000 / jobs, 2),
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 1),
    }


def _timed_pair(a: Any, b: Any, n: int) -> tuple[tuple[list[float], float], ...]:
    """Wall seconds of each of `n` calls of `a(i)` and of `b(i)`, taken in turns so that the
    load of a shared machine falls on both alike (after 3 warm-up calls each), and the client
    process's CPU seconds spent in each."""
    for i in range(3):
        a(-1 - i)
        b(-1 - i)
    out: list[tuple[list[float], float]] = [([], 0.0), ([], 0.0)]
    for i in range(n):
        order = ((0, a), (1, b)) if i % 2 == 0 else ((1, b), (0, a))  # neither always first
        for k, step in order:
            cpu, start = time.process_time(), time.perf_counter()
            step(i)
            out[k][0].append(time.perf_counter() - start)
            out[k] = (out[k][0], out[k][1] + time.process_time() - cpu)
    return tuple(out)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--seconds", type=int, default=2)
    parser.add_argument("--workers", type=int, default=None, help="WORKER_CONCURRENCY")
    parser.add_argument("--sdk-jobs", type=int, default=50, help="jobs per side of sdk_overhead")
    parser.add_argument("--only", choices=("server_batch", "sdk_overhead"), default=None)
    args = parser.parse_args()
    if args.only != "sdk_overhead":
        print(json.dumps({"server_batch": server_batch(args.items, args.seconds, args.workers)}))
    if args.only != "server_batch":
        print(json.dumps({"sdk_overhead": sdk_overhead(args.sdk_jobs)}))


if __name__ == "__main__":
    main()
