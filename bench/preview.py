"""Benchmark of the CPU `preview` engine: a fixed set of renders, each against its encode floor;
at the end the 720p request also as a job through a service (`bench/job_path.py`).

For each case, in a fresh child process (so peak memory is that render's own):
- wall: reference preparation + drawing + H.264/AAC encoding, the whole `render` + `encode_mp4`
  (the references are made before the clock starts);
- floor: the x264 encode alone of the same frames and soundtrack with the same settings (the
  render's own output decoded into memory first, outside the clock): no engine is faster than
  this, so wall / floor says what the engine adds;
- x-realtime: clip seconds / wall seconds; peak RSS: the child's maximum resident set.

Each case runs `--repeat` times (default 3) and the median is reported: the benchmark shares
its machine with whatever else runs there, and the load average is written next to the numbers.
The 15 s 1080p case checks memory (target < 1.5 GB) and has no floor (its frames would take
2.2 GB to hold); so do the 4K case, the alpha cases (ProRes 4444 and VP9, subjects on a
transparent background) and the 30 s continuation (against the 15 s 480p case: the frame path's
memory stays flat, the soundtrack's grows a few MB per second), which run once. Results
replace the preview section of docs/benchmarks.md.

    .venv/bin/python bench/preview.py              # the whole set, results into the docs
    .venv/bin/python bench/preview.py --repeat 1 --no-write
    .venv/bin/python bench/preview.py --case 720p  # one case (by name prefix)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from bench.docs_section import replace_section  # noqa: E402
from bench.machine import describe_machine  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START = "<!-- bench/preview.py: start -->"
END = "<!-- bench/preview.py: end -->"


@dataclass(frozen=True)
class Case:
    name: str
    width: int
    height: int
    seconds: int
    prompt: str
    refs: tuple[str, ...]  # "figure", "busy", "land", "song", "clip"
    floor: bool = True
    what: str = ""
    alpha: str = ""  # "prores_4444" | "vp9": render_alpha + encode_alpha instead of the MP4
    targets: dict[str, float] = field(default_factory=dict)


CASES = (
    Case(
        "720p-5s-3refs-audio",
        1280,
        720,
        5,
        "@Image1 and @Image2 walk across @Image3 at golden hour, slow dolly in, to @Audio1",
        ("figure", "busy", "land", "song"),
        what="3 images (studio cut-out, GrabCut cut-out, plate) + reference audio, actions, grade",
        targets={"wall": 5.0, "ratio": 2.0, "report_share": 0.15},
    ),
    Case(
        "1080p-10s-multishot",
        1920,
        1080,
        10,
        "Shot 1: @Image1 enters from the left in @Image2, pan right. "
        "Crossfade to: @Image1 bounces, dolly in, neon. "
        'Whip pan to: @Image1 says "we made it, finally", orbit left, handheld. Fade to black.',
        ("figure", "land"),
        what="3 shots, crossfade + whip pan + fade out, actions, neon, handheld, espeak dialogue",
    ),
    Case(
        "480p-15s",
        854,
        480,
        15,
        "@Image1 floats in the rain, slow pan left, vintage",
        ("figure", "clip"),
        what="looping reference-video plate, a floating cut-out, rain ambience, vintage grade",
    ),
    Case(
        "1080p-15s-memory",
        1920,
        1080,
        15,
        "Shot 1: @Image1 enters from the left in @Image2, pan right. "
        "Crossfade to: @Image1 bounces, dolly in, neon. "
        'Whip pan to: @Image1 says "we made it, finally", orbit left, handheld. Fade to black.',
        ("figure", "land"),
        floor=False,
        what="the 1080p multi-shot render at 15 s: peak memory",
        targets={"rss_mb": 1536.0},
    ),
    Case(
        "2160p-5s",
        3840,
        2160,
        5,
        "@Image1 and @Image2 walk across @Image3 at golden hour, slow dolly in, to @Audio1",
        ("figure", "busy", "land", "song"),
        floor=False,
        what="the 720p case at 3840x2160 (4K UHD): time and memory",
    ),
    Case(
        "720p-5s-alpha-prores",
        1280,
        720,
        5,
        "@Image1 and @Image2 walk across @Image3 at golden hour, slow dolly in, to @Audio1",
        ("figure", "busy", "land", "song"),
        floor=False,
        alpha="prores_4444",
        what="the 720p case as subjects on a transparent background, ProRes 4444 .mov",
    ),
    Case(
        "720p-5s-alpha-vp9",
        1280,
        720,
        5,
        "@Image1 and @Image2 walk across @Image3 at golden hour, slow dolly in, to @Audio1",
        ("figure", "busy", "land", "song"),
        floor=False,
        alpha="vp9",
        what="the same as VP9 with alpha in WebM (libvpx realtime, cpu-used 8)",
    ),
    Case(
        "480p-30s-continuation",
        854,
        480,
        30,
        "@Image1 floats in the rain, slow pan left, vintage",
        ("figure", "clip"),
        floor=False,
        what="the 480p-15s case at 30 s: past the hosted limit by planned continuation (3 parts "
        "of 10 s, crossfaded); peak memory against the 15 s case's",
    ),
)


# --- references, made in code -----------------------------------------------------------------


def _make_refs(names: tuple[str, ...], folder: Path) -> list[object]:
    import av
    import cv2
    import numpy as np
    from PIL import Image

    from reelforge.intake.local import local_reference
    from reelforge.spec import ReferenceKind, ReferenceRole

    rng = np.random.default_rng(7)

    def landscape(w: int, h: int, seed: int) -> np.ndarray:
        r = np.random.default_rng(seed)
        y = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
        img = (1 - y) * np.array([90, 150, 230]) + y * np.array([60, 130, 60])
        img = np.repeat(img, w, axis=1).astype(np.float32)
        for _ in range(260):
            c = tuple(float(v) for v in r.integers(0, 256, 3))
            x0, y0, rad = int(r.integers(0, w)), int(r.integers(0, h)), int(r.integers(6, w // 16))
            cv2.circle(img, (x0, y0), rad, (min(c[0], c[1]), c[1], c[2]), -1)
        img += r.normal(0, 5, img.shape)
        return np.clip(img, 0, 255).astype(np.uint8)

    def figure(w: int, h: int, background: np.ndarray | None) -> np.ndarray:
        y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
        grey = np.repeat(np.repeat((150 + 30 * y)[:, :, None], w, 1), 3, 2)
        img = grey if background is None else background.astype(np.float32)
        mask = np.zeros((h, w), np.uint8)
        cv2.circle(mask, (w // 2, int(h * 0.25)), int(h * 0.1), 255, -1)
        axes = (int(w * 0.12), int(h * 0.25))
        cv2.ellipse(mask, (w // 2, int(h * 0.58)), axes, 0, 0, 360, 255, -1)
        x = np.linspace(0, 1, w, dtype=np.float32)[None, :]
        shade = 0.75 + 0.25 * np.sin(x * 40) * np.cos(y * 30)
        red = np.stack([210 * shade, 40 * shade, 35 * shade + 20], 2)
        out = np.where(mask[:, :, None] > 0, red, img) + rng.normal(0, 1.5, img.shape)
        return np.clip(out, 0, 255).astype(np.uint8)

    refs: list[object] = []
    counts = {"image": 0, "video": 0, "audio": 0}

    def add(kind: ReferenceKind, path: Path, seconds: float | None = None) -> None:
        counts[kind.value] += 1
        index = counts[kind.value]
        ref = local_reference(path, kind, role=ReferenceRole.REFERENCE, index=index, param="refs")
        refs.append(replace(ref, seconds=seconds or ref.seconds))

    for name in names:
        if name == "figure":
            path = folder / "figure.png"
            Image.fromarray(figure(960, 720, None)).save(path)
            add(ReferenceKind.IMAGE, path)
        elif name == "busy":
            path = folder / "busy.png"
            Image.fromarray(figure(960, 720, landscape(960, 720, 3))).save(path)
            add(ReferenceKind.IMAGE, path)
        elif name == "land":
            path = folder / "land.jpg"
            Image.fromarray(landscape(1920, 1080, 1)).save(path, quality=92)
            add(ReferenceKind.IMAGE, path)
        elif name == "song":  # 8 s at 120 BPM: kick on the beat over a chord pad, stereo WAV
            sr = 48_000
            t = np.arange(8 * sr) / sr
            pad = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) * 0.08
            kick = np.sin(2 * np.pi * 60 * t) * np.exp(-(t % 0.5) / 0.06) * 0.6
            mono = (pad + kick).astype(np.float32)
            path = folder / "song.wav"
            with av.open(str(path), "w", format="wav") as out:
                stream = out.add_stream("pcm_s16le", rate=sr, layout="stereo")
                pcm = (np.stack([mono, mono]).T.reshape(1, -1) * 32767).astype(np.int16)
                frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="stereo")
                frame.sample_rate = sr
                out.mux(stream.encode(frame))
                out.mux(stream.encode(None))
            add(ReferenceKind.AUDIO, path, 8.0)
        elif name == "clip":  # 4 s 640x360 at 30 fps, textured, panning
            path = folder / "clip.mp4"
            base = landscape(640 + 4 * 120 + 8, 360, 5)
            with av.open(str(path), "w") as out:
                video = out.add_stream("libx264", rate=30)
                video.width, video.height, video.pix_fmt = 640, 360, "yuv420p"
                for i in range(120):
                    rgb = np.ascontiguousarray(base[:, 4 * i : 4 * i + 640])
                    vf = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                    vf.pts = i
                    vf.time_base = Fraction(1, 30)
                    out.mux(video.encode(vf))
                out.mux(video.encode(None))
            add(ReferenceKind.VIDEO, path, 4.0)
    return refs


# --- one measurement, in a child process ------------------------------------------------------


def _child(case_name: str, mode: str, folder: Path) -> dict[str, float]:
    from reelforge.engines.base import RenderRequest
    from reelforge.engines.preview import PreviewEngine
    from reelforge.jobs.render import plan_video
    from reelforge.media.decode import iter_video_frames, load_audio
    from reelforge.media.encode import encode_mp4
    from reelforge.media.types import AudioTrack
    from reelforge.spec import Codec

    case = next(c for c in CASES if c.name == case_name)
    out = folder / f"{case.name}.mp4"
    n = case.seconds * 24
    if mode == "render":
        refs = _make_refs(case.refs, folder)
        start = time.perf_counter()
        cpu_start = time.process_time()
        plan = plan_video(case.prompt, case.seconds, tuple(refs))  # type: ignore[arg-type]
        request = RenderRequest(
            prompt=case.prompt,
            plan=plan,
            width=case.width,
            height=case.height,
            num_frames=n,
            references=tuple(refs),  # type: ignore[arg-type]
        )
        engine = PreviewEngine()
        if case.alpha:
            from reelforge.media.alpha import SUFFIX, encode_alpha

            rendering = engine.render_alpha(request, lambda _f: None, _Never())
            prepared = time.perf_counter()
            encode_alpha(
                out.with_suffix(SUFFIX[case.alpha]),
                rendering.frames,
                width=case.width,
                height=case.height,
                num_frames=n,
                codec=case.alpha,  # type: ignore[arg-type]
                audio=rendering.audio,
            )
            end = time.perf_counter()
            return {
                "wall": end - start,
                "prep": prepared - start,
                "rss_mb": _peak_rss_mb(),
                "render_cpu": time.process_time() - cpu_start,
                "report_cpu": math.nan,
            }
        rendering = engine.render(request, lambda _f: None, _Never())
        prepared = time.perf_counter()
        encode_mp4(
            out,
            rendering.frames,
            width=case.width,
            height=case.height,
            fps=24,
            num_frames=n,
            codec=Codec.H264,
            audio=rendering.audio,
        )
        end = time.perf_counter()
        render_cpu = time.process_time() - cpu_start
        # The quality report of the same file (what a job computes after encoding), on the CPU
        # clock of this process (all threads): its cost as a share of the render's.
        from reelforge.quality import quality_report

        cpu_start = time.process_time()
        quality_report(out, plan, refs, width=case.width, height=case.height)  # type: ignore[arg-type]
        report_cpu = time.process_time() - cpu_start
        return {
            "wall": end - start,
            "prep": prepared - start,
            "rss_mb": _peak_rss_mb(),
            "render_cpu": render_cpu,
            "report_cpu": report_cpu,
        }
    frames = [f.copy() for f in iter_video_frames(out)]
    track = load_audio(out)
    audio = AudioTrack(track.samples, track.sample_rate)
    start = time.perf_counter()
    cpu_start = time.process_time()
    encode_mp4(
        folder / "floor.mp4",
        iter(frames),
        width=case.width,
        height=case.height,
        fps=24,
        num_frames=n,
        codec=Codec.H264,
        audio=audio,
    )
    return {"floor": time.perf_counter() - start, "floor_cpu": time.process_time() - cpu_start}


class _Never:
    def is_set(self) -> bool:
        return False


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _run_child(case: Case, mode: str, folder: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--child", case.name, mode, str(folder)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{case.name} {mode} failed:\n{done.stderr[-3000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the set ------------------------------------------------------------------------------------


def _versions() -> str:
    import av
    import cv2
    import numpy as np

    return (
        f"Python {platform.python_version()}, PyAV {av.__version__}, OpenCV {cv2.__version__}, "
        f"NumPy {np.__version__}"
    )


def run(cases: list[Case], repeat: int) -> list[dict[str, object]]:
    rows = []
    for case in cases:
        walls, preps, floors, rss, shares, cpu_ratios = [], [], [], [], [], []
        load = os.getloadavg()[0]
        with tempfile.TemporaryDirectory(prefix="reelforge-bench-") as tmp:
            folder = Path(tmp)
            for r in range(repeat if case.floor else 1):
                got = _run_child(case, "render", folder)
                walls.append(got["wall"])
                preps.append(got["prep"])
                rss.append(got["rss_mb"])
                shares.append(got["report_cpu"] / got["render_cpu"])
                if case.floor:
                    floor_run = _run_child(case, "floor", folder)
                    floors.append(floor_run["floor"])
                    cpu_ratios.append(got["render_cpu"] / floor_run["floor_cpu"])
                print(
                    f"{case.name} run {r + 1}: wall {got['wall']:.2f} s (prep {got['prep']:.2f} s)"
                    + (f", floor {floors[-1]:.2f} s" if floors else "")
                    + f", peak RSS {got['rss_mb']:.0f} MB"
                    + (
                        f", report CPU {got['report_cpu']:.2f} s = {100 * shares[-1]:.0f} %"
                        f" of the render's {got['render_cpu']:.2f} s"
                        if not math.isnan(shares[-1])
                        else ""
                    ),
                    flush=True,
                )
        wall = statistics.median(walls)
        floor = statistics.median(floors) if floors else math.nan
        rows.append(
            {
                "case": case,
                "wall": wall,
                "prep": statistics.median(preps),
                "floor": floor,
                "ratio": wall / floor if floors else math.nan,
                "ratio_no_prep": (wall - statistics.median(preps)) / floor if floors else math.nan,
                "realtime": case.seconds / wall,
                "rss_mb": max(rss),
                "report_share": statistics.median(shares),
                "cpu_ratio": statistics.median(cpu_ratios) if cpu_ratios else math.nan,
                "walls": walls,
                "load": load,
            }
        )
    return rows


def _verdict(row: dict[str, object]) -> str:
    case = row["case"]
    assert isinstance(case, Case)
    notes = []
    for key, limit in case.targets.items():
        value = row[key]
        assert isinstance(value, float)
        unit = {"wall": " s", "ratio": "x", "rss_mb": " MB", "report_share": ""}[key]
        ok = value <= limit
        notes.append(f"{key} {'<=' if ok else '>'} {limit:g}{unit}: {'met' if ok else 'MISSED'}")
    return "; ".join(notes) or "-"


def table(rows: list[dict[str, object]]) -> str:
    lines = [
        "| case | frames | prep s | wall s | encode floor s | wall / floor | "
        "(wall - prep) / floor | CPU / floor CPU | x realtime | peak RSS MB | "
        "report CPU / render CPU | load | targets |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        case = row["case"]
        assert isinstance(case, Case)

        def f(key: str, digits: int = 2, row: dict[str, object] = row) -> str:
            v = row[key]
            assert isinstance(v, float)
            return "-" if math.isnan(v) else f"{v:.{digits}f}"

        lines.append(
            f"| {case.name} ({case.width}x{case.height}) | {case.seconds * 24} | {f('prep')} | "
            f"{f('wall')} | {f('floor')} | {f('ratio')} | {f('ratio_no_prep')} | "
            f"{f('cpu_ratio')} | {f('realtime', 1)} | {f('rss_mb', 0)} | {f('report_share')} | "
            f"{f('load')} | {_verdict(row)} |"
        )
    return "\n".join(lines)


def write_doc(rows: list[dict[str, object]], repeat: int, load: tuple[float, float]) -> None:
    cases = "\n".join(
        f"- **{row['case'].name}**: {row['case'].what}. Prompt: `{row['case'].prompt}`"  # type: ignore[attr-defined]
        for row in rows
    )
    section = f"""{START}
# Preview engine on the CPU (`bench/preview.py`)

- Run: {dt.date.today().isoformat()}, `make bench`.
- Machine: {describe_machine()}.
- Software: {_versions()}.
- Method: median of {repeat} runs per case (the memory case runs once), each in a fresh process.
  Load average (1 min) at the start / end of the whole run: {load[0]:.2f} / {load[1]:.2f}, and
  at the start of each case in the table: other work shares this machine, so single numbers
  move by +-20 % or more when the load is above the core count.

*wall*: reference preparation + drawing + H.264 (libx264 veryfast, crf 20, 4 threads, AVX-512
masked as in `media/encode.py`) + AAC, the whole `render` + `encode_mp4`. *encode floor*: the
same frames and soundtrack encoded alone with the same settings (pre-rendered, in memory).
*CPU / floor CPU*: the same ratio on CPU time (all threads), which other work on the machine
disturbs far less than wall time. *peak RSS*: the render process's maximum resident set.
*report CPU / render CPU*: the CPU
time (all threads) of `reelforge.quality.quality_report` on the encoded file over that of the
render + encode (target: at most 0.15).

{table(rows)}

Cases:
{cases}

{END}"""
    replace_section(DOC, START, END, section)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(_child(sys.argv[2], sys.argv[3], Path(sys.argv[4]))))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--case", default="", help="run the cases whose name starts with this")
    parser.add_argument("--no-write", action="store_true", help="print, do not update the docs")
    parser.add_argument(
        "--no-job-path", action="store_true",
        help="skip the same 720p request as a job through a service (bench/job_path.py)",
    )  # fmt: skip
    args = parser.parse_args()
    cases = [c for c in CASES if c.name.startswith(args.case)]
    load_start = os.getloadavg()[0]
    rows = run(cases, args.repeat)
    load_end = os.getloadavg()[0]
    print(table(rows))
    if not args.no_job_path and any(c.name == "720p-5s-3refs-audio" for c in cases):
        # The same request as a job (create -> completed) against its render + encode alone.
        done = subprocess.run(
            [sys.executable, str(ROOT / "bench" / "job_path.py"), "--repeat", str(args.repeat)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        print(done.stdout.strip().splitlines()[-1] if done.returncode == 0 else done.stderr[-2000:])
    if not args.no_write and len(cases) == len(CASES):
        write_doc(rows, args.repeat, (load_start, load_end))
        print(f"written to {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
