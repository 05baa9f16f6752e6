"""Synthetic media for the media, engine and planning tests: pictures, clips and sounds made in
code, written to real files, and the measurements the tests make on real decoded output."""

from __future__ import annotations

import fractions
import hashlib
import itertools
import os
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from PIL import Image

from reelforge.core.references import StoredReference
from reelforge.engines.base import RenderRequest
from reelforge.media.decode import iter_video_frames
from reelforge.planning.shots import plan_shots
from reelforge.spec import ReferenceKind, ReferenceRole

# --- pictures -------------------------------------------------------------------------------


def studio_figure(width: int = 960, height: int = 720, seed: int = 0) -> np.ndarray:
    """A red, shaded 'character' (head, body, arm) on a flat grey studio sweep, RGB uint8."""
    rng = np.random.default_rng(seed)
    yy = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    grey = 150.0 + 30.0 * yy  # a gentle vertical sweep
    img = np.repeat(np.repeat(grey[:, :, None], width, axis=1), 3, axis=2)
    mask = figure_mask(width, height)
    # Shaded red texture on the figure so it has edges to track and match.
    xx = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    shade = 0.75 + 0.25 * np.sin(xx * 40.0) * np.cos(yy * 30.0)
    red = np.stack([210.0 * shade, 40.0 * shade, 35.0 * shade + 20.0], axis=2)
    img = np.where(mask[:, :, None] > 0, red, img)
    img += rng.normal(0.0, 1.5, img.shape)  # sensor noise
    return np.clip(img, 0, 255).astype(np.uint8)


def figure_mask(width: int, height: int) -> np.ndarray:
    """The true mask of `studio_figure` (255 inside)."""
    mask = np.zeros((height, width), np.uint8)
    cx = width // 2
    cv2.circle(mask, (cx, int(height * 0.25)), int(height * 0.1), 255, -1)
    cv2.ellipse(
        mask, (cx, int(height * 0.58)), (int(width * 0.12), int(height * 0.25)), 0, 0, 360, 255, -1
    )
    cv2.line(
        mask,
        (cx, int(height * 0.5)),
        (cx + int(width * 0.2), int(height * 0.38)),
        255,
        int(height * 0.05),
    )
    return mask


def textured_landscape(
    width: int = 1280, height: int = 720, seed: int = 1, avoid_red: bool = False
) -> np.ndarray:
    """A busy 'place': sky gradient, hills, and random blocks and blobs (lots of trackable
    texture everywhere, a non-uniform border), RGB uint8. `avoid_red` keeps every blob less red
    than green, so `red_mask` finds only the studio figure in a composite."""
    rng = np.random.default_rng(seed)
    img = np.zeros((height, width, 3), np.float32)
    yy = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    img[:] = (1 - yy) * np.array([90, 150, 230]) + yy * np.array([60, 130, 60])
    for _ in range(220):
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(4, max(6, width // 18)))
        red, green, blue = (float(c) for c in rng.integers(0, 256, 3))
        colour = (min(red, green), green, blue) if avoid_red else (red, green, blue)
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), r, colour, -1)
        else:
            cv2.rectangle(img, (x, y), (x + r, y + r // 2), colour, -1)
    img += rng.normal(0.0, 6.0, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def unrelated_image(width: int = 800, height: int = 600) -> np.ndarray:
    """Something that appears in no render: cyan/magenta diagonal stripes."""
    yy, xx = np.mgrid[0:height, 0:width]
    stripes = ((xx + yy) // 25) % 2 == 0
    img = np.zeros((height, width, 3), np.uint8)
    img[stripes] = (0, 220, 220)
    img[~stripes] = (200, 0, 200)
    return img


def write_image(path: Path, rgb: np.ndarray) -> Path:
    Image.fromarray(rgb).save(path)
    return path


# --- clips and sounds ---------------------------------------------------------------------------


def write_test_video(
    path: Path, width: int = 640, height: int = 480, frames: int = 30, fps: int = 30, seed: int = 2
) -> Path:
    """A moving textured clip written with PyAV directly (not through the code under test)."""
    base = textured_landscape(width * 2, height * 2, seed=seed)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            rgb = np.ascontiguousarray(base[i * 4 : i * 4 + height, i * 4 : i * 4 + width])
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            frame.time_base = fractions.Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def write_tone_wav(
    path: Path, seconds: float = 2.0, rate: int = 44_100, hz: float = 440.0, channels: int = 1
) -> Path:
    """A sine tone as 16-bit PCM WAV, written with PyAV."""
    n = round(seconds * rate)
    t = np.arange(n) / rate
    tone = (0.5 * np.sin(2 * np.pi * hz * t) * 32767).astype(np.int16)
    layout = "mono" if channels == 1 else "stereo"
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout=layout)
        data = np.tile(tone[None, :], (1, channels)) if channels > 1 else tone[None, :]
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(data), format="s16", layout=layout)
        frame.sample_rate = rate
        frame.pts = 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


# --- measurements on decoded output -----------------------------------------------------------


def decode_frames(path: Path) -> list[np.ndarray]:
    return list(iter_video_frames(path))


def video_packets(path: Path) -> list[bytes]:
    """The video stream's packets as bytes: equal lists mean byte-identical video."""
    with av.open(str(path)) as src:
        return [bytes(p) for p in src.demux(video=0) if p.size]


def mean_flow(
    frames: list[np.ndarray], size: tuple[int, int] = (320, 180)
) -> tuple[float, float, float]:
    """(mean dx, mean dy, mean divergence) of Farneback flow between consecutive frames, in
    pixels of a `size` proxy. Positive dx = content moves right; positive divergence =
    content expands (zoom in)."""
    dxs, dys, divs = [], [], []
    prev = _grey(frames[0], size)
    for frame in frames[1:]:
        cur = _grey(frame, size)
        flow = cv2.calcOpticalFlowFarneback(
            prev,
            cur,
            None,
            0.5,
            3,
            15,
            3,
            5,
            1.2,
            0,  # type: ignore[call-overload]
        )
        m = 12  # the border of a flow field is unreliable
        inner = flow[m:-m, m:-m]
        dxs.append(float(inner[..., 0].mean()))
        dys.append(float(inner[..., 1].mean()))
        du_dx = np.gradient(flow[..., 0], axis=1)
        dv_dy = np.gradient(flow[..., 1], axis=0)
        divs.append(float((du_dx + dv_dy)[m:-m, m:-m].mean()))
        prev = cur
    return float(np.mean(dxs)), float(np.mean(dys)), float(np.mean(divs))


def _grey(rgb: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return cv2.cvtColor(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)


def best_template_score(
    frame: np.ndarray,
    template: np.ndarray,
    heights: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
) -> float:
    """The best normalised cross-correlation of `template` over `frame` at several scales
    (template height as a fraction of the frame height)."""
    best = -1.0
    fh, fw = frame.shape[:2]
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    for frac in heights:
        th = int(fh * frac)
        tw = int(template.shape[1] * th / template.shape[0])
        if th < 8 or tw < 8 or tw >= fw or th >= fh:
            continue
        t = cv2.cvtColor(
            cv2.resize(template, (tw, th), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY
        )
        score = float(cv2.matchTemplate(grey, t, cv2.TM_CCOEFF_NORMED).max())
        best = max(best, score)
    return best


def iou(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a > 127, b > 127
    return float((a & b).sum()) / max(1, int((a | b).sum()))


def moving_frames(width: int, height: int, count: int, seed: int = 4) -> list[np.ndarray]:
    """`count` frames of a textured picture sliding 3 px a frame, RGB uint8."""
    base = textured_landscape(width + 3 * count + 3, height, seed=seed)
    return [np.ascontiguousarray(base[:, 3 * i : 3 * i + width]) for i in range(count)]


class Flag:
    """A cancel token that trips after `after` checks (never when None)."""

    def __init__(self, after: int | None = None) -> None:
        self.after = after
        self.checks = 0

    def is_set(self) -> bool:
        self.checks += 1
        return self.after is not None and self.checks > self.after


# --- engine requests ----------------------------------------------------------------------------


def make_request(
    prompt: str,
    references: tuple[StoredReference, ...] = (),
    width: int = 854,
    height: int = 480,
    num_frames: int = 24,
    seed: int = 0,
    generate_audio: bool = True,
    beats: Sequence[float] = (),
) -> RenderRequest:
    """A RenderRequest planned from its prompt, the way the workflow will build one."""
    images = sum(1 for r in references if r.kind is ReferenceKind.IMAGE)
    plan = plan_shots(prompt, num_frames, 24, images, references=references, beats=beats)
    return RenderRequest(
        prompt=prompt,
        plan=plan,
        width=width,
        height=height,
        num_frames=num_frames,
        seed=seed,
        generate_audio=generate_audio,
        references=references,
    )


def local_ref(
    kind: ReferenceKind,
    role: ReferenceRole,
    index: int,
    path: Path,
    *,
    width: int | None = None,
    height: int | None = None,
    seconds: float | None = None,
    fps: float | None = None,
) -> StoredReference:
    """A reference read in place from `path`, with the header values a test gives (no probe;
    the path need not exist for a planner test)."""
    data = path.read_bytes() if path.is_file() else str(path).encode()
    sha = hashlib.sha256(data).hexdigest()
    return StoredReference(
        kind=kind, role=role, index=index, storage_key=f"refs/{sha}", sha256=sha,
        mime_type="application/octet-stream", bytes=len(data), width=width, height=height,
        seconds=seconds, fps=fps, local_path=path,
    )  # fmt: skip


def image_ref(
    index: int, path: Path, role: ReferenceRole = ReferenceRole.REFERENCE
) -> StoredReference:
    return local_ref(ReferenceKind.IMAGE, role, index, path)


def video_ref(index: int, path: Path, seconds: float | None = None) -> StoredReference:
    return local_ref(ReferenceKind.VIDEO, ReferenceRole.REFERENCE, index, path, seconds=seconds)


def audio_ref(index: int, path: Path, seconds: float | None = None) -> StoredReference:
    return local_ref(ReferenceKind.AUDIO, ReferenceRole.REFERENCE, index, path, seconds=seconds)


def red_mask(frame: np.ndarray) -> np.ndarray:
    """Where the red studio figure is in a frame (its shading keeps R well above G and B)."""
    r, g, b = (frame[..., i].astype(np.int16) for i in range(3))
    return ((r > 110) & (r - g > 80) & (r - b > 60)).astype(np.uint8) * 255


# --- story checks: cuts, beats, speech, timing --------------------------------------------------


def frame_diffs(frames: Sequence[np.ndarray], size: tuple[int, int] = (160, 90)) -> np.ndarray:
    """Mean absolute grey difference between each frame and the one before it (entry i compares
    frame i with frame i - 1; entry 0 is 0)."""
    greys = [_grey(f, size).astype(np.int16) for f in frames]
    diffs = [0.0] + [float(np.abs(b - a).mean()) for a, b in itertools.pairwise(greys)]
    return np.array(diffs)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    err = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if err == 0 else 10.0 * float(np.log10(255.0**2 / err))


def click_track(bpm: float, seconds: float, offset: float = 0.0, rate: int = 48_000) -> np.ndarray:
    """Mono float32 clicks (short 1.5 kHz pings) every beat from `offset`."""
    n = round(seconds * rate)
    out = np.zeros(n, np.float32)
    length = round(0.03 * rate)
    ping = (
        0.8
        * np.exp(-np.arange(length) / (0.005 * rate))
        * np.sin(2 * np.pi * 1500 * np.arange(length) / rate)
    ).astype(np.float32)
    t = offset
    while t < seconds:
        i = round(t * rate)
        seg = out[i : i + length]
        seg += ping[: seg.size]
        t += 60.0 / bpm
    return out


def write_wav(path: Path, mono: np.ndarray, rate: int = 48_000) -> Path:
    """Mono float samples as 16-bit PCM WAV, written with PyAV."""
    pcm = (np.clip(mono, -1.0, 1.0) * 32767).astype(np.int16)[None, :]
    with av.open(str(path), "w", format="wav") as out:
        stream = out.add_stream("pcm_s16le", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(pcm), format="s16", layout="mono")
        frame.sample_rate = rate
        frame.pts = 0
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def write_pan_video(
    path: Path, dx: int, dy: int = 0, width: int = 320, height: int = 180, frames: int = 24
) -> Path:
    """A clip whose content slides `dx`, `dy` pixels a frame (a camera panning the other way)."""
    pad = 4 + max(abs(dx), abs(dy)) * frames
    base = textured_landscape(width + 2 * pad, height + 2 * pad, seed=12)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for i in range(frames):
            x0, y0 = pad - dx * i, pad - dy * i
            rgb = np.ascontiguousarray(base[y0 : y0 + height, x0 : x0 + width])
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            frame.pts = i
            frame.time_base = fractions.Fraction(1, 24)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def require_espeak() -> None:
    """Skip without espeak-ng locally; in CI (where .ci/run installs it) its absence fails."""
    if shutil.which("espeak-ng") is not None:
        return
    if os.environ.get("CI"):
        pytest.fail("espeak-ng is not installed; CI installs it with .ci/run (apt-get)")
    pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")


class CancelAfter:
    """A cancel token that becomes set `seconds` after it is made; it records when a check first
    saw it set."""

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + seconds
        self.seen: float | None = None

    def is_set(self) -> bool:
        now = time.monotonic()
        if now >= self.at:
            if self.seen is None:
                self.seen = now
            return True
        return False
