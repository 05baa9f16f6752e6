"""The path around the engine: one request rendered alone (plan + render + encode, in this
process) and the same request as a job through a real service (create -> `completed`: intake,
the durable workflow's steps and checkpoints, the engine's process, publishing), in one run.

The difference is what a job costs besides its render; target (issue 10): within 0.5 s. The
service runs in this process (API + workers, SQLite, local storage, the preview engine in its
own warm process, as `reelforge serve` runs it); a job's time is from the create request to
the `completed_at` of its record.

    .venv/bin/python bench/job_path.py              # 3 repeats, medians
    .venv/bin/python bench/job_path.py --repeat 1
"""

from __future__ import annotations

import argparse
import base64
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

CASE = "720p-5s-3refs-audio"


def render_alone(folder: Path) -> float:
    """Plan + render + encode of the case, as bench/preview.py measures it (seconds)."""
    from bench.preview import CASES, _make_refs, _Never

    from reelforge.engines.base import RenderRequest
    from reelforge.engines.preview import PreviewEngine
    from reelforge.jobs.render import plan_video
    from reelforge.media.encode import encode_mp4
    from reelforge.spec import Codec

    case = next(c for c in CASES if c.name == CASE)
    refs = _make_refs(case.refs, folder)
    engine = PreviewEngine()
    start = time.perf_counter()
    plan = plan_video(case.prompt, case.seconds, tuple(refs))  # type: ignore[arg-type]
    request = RenderRequest(
        prompt=case.prompt, plan=plan, width=case.width, height=case.height,
        num_frames=case.seconds * 24, references=tuple(refs),  # type: ignore[arg-type]
    )  # fmt: skip
    rendering = engine.render(request, lambda _f: None, _Never())
    encode_mp4(
        folder / "alone.mp4", rendering.frames, width=case.width, height=case.height, fps=24,
        num_frames=request.num_frames, codec=Codec.H264, audio=rendering.audio,
    )  # fmt: skip
    return time.perf_counter() - start


def render_files_alone(folder: Path) -> float:
    """The same with what a job's render step also delivers (`render_video`: the thumbnail, the
    last frame as PNG and the spritesheet besides the MP4), in this process (seconds)."""
    from bench.preview import CASES, _make_refs, _Never

    from reelforge.engines.base import RenderRequest
    from reelforge.engines.preview import PreviewEngine
    from reelforge.jobs.render import plan_video, render_video
    from reelforge.spec import Codec

    case = next(c for c in CASES if c.name == CASE)
    refs = tuple(_make_refs(case.refs, folder))
    engine = PreviewEngine()
    start = time.perf_counter()
    plan = plan_video(case.prompt, case.seconds, refs)  # type: ignore[arg-type]
    request = RenderRequest(
        prompt=case.prompt, plan=plan, width=case.width, height=case.height,
        num_frames=case.seconds * 24, references=refs,  # type: ignore[arg-type]
    )  # fmt: skip
    render_video(engine, request, folder / "files", codec=Codec.H264,
                 progress=lambda _f: None, cancel=_Never())  # fmt: skip
    return time.perf_counter() - start


def as_a_job(folder: Path, repeat: int) -> list[float]:
    """Create -> `completed` of the same request through a service, `repeat` times."""
    from bench.preview import CASES, _make_refs
    from fastapi.testclient import TestClient

    from reelforge.api.app import create_app
    from reelforge.engines.registry import EngineRegistry
    from reelforge.settings import Settings

    case = next(c for c in CASES if c.name == CASE)
    refs = _make_refs(case.refs, folder)
    key = "rf_" + "b" * 40
    settings = Settings(
        data_dir=folder / "data", bootstrap_key=key, print_admin_key=False,  # type: ignore[arg-type]
        default_model="preview", log_level="WARNING",
    )  # fmt: skip
    body = {
        "prompt": case.prompt,
        "seconds": case.seconds,
        "size": f"{case.width}x{case.height}",
        "references": [
            {"type": r.kind.value, "data": base64.b64encode(r.path.read_bytes()).decode()}
            for r in refs
        ],
    }
    times: list[float] = []
    app = create_app(settings, engines=EngineRegistry(settings=settings))
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
        time.sleep(3.0)  # the engine process starts with the service (prewarm_engines)
        for _ in range(repeat):
            start = time.time()
            video = client.post("/v1/videos", json=body).json()
            while True:  # polled slowly, so the client costs the machine nothing
                status = client.get(f"/v1/videos/{video['id']}").json()["status"]
                if status in ("completed", "failed", "canceled"):
                    break
                time.sleep(0.25)
            if status != "completed":
                raise SystemExit(f"the job ended {status}")
            # The moment the job became `completed`, from its record (not the next poll).
            completed_at = app.state.jobs.load(video["id"]).completed_at
            times.append(completed_at - start)
            time.sleep(2.0)  # its quality report (after completion) does not overlap the next
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="reelforge-bench-job-") as tmp:
        folder = Path(tmp)
        alone: list[float] = []
        files: list[float] = []
        for _ in range(args.repeat):  # alternated, so that a slow minute hits both
            alone.append(render_alone(folder))
            files.append(render_files_alone(folder))
        job = statistics.median(as_a_job(folder, args.repeat))
    render, stills = statistics.median(alone), statistics.median(files)
    print(f"| {CASE} | render + encode alone {render:.2f} s | with the job's stills "
          f"{stills:.2f} s | as a job {job:.2f} s | path around the engine {job - render:+.2f} s "
          f"({job - stills:+.2f} s past the render step's own work) |")  # fmt: skip


if __name__ == "__main__":
    main()
