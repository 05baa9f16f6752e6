"""A reference video as a motion source: its camera motion, measured by optical flow, becomes
the camera path of a shot.

The video is decoded at a 256 px proxy and sampled at the output frame rate (a short video's
motion repeats). Between consecutive samples, DIS optical flow (ultrafast preset) gives a dense
field; a least-squares fit of translation plus uniform scale (trimmed to the 70 % best-fitting
vectors, so a moving subject does not drag the estimate) is the frame's global motion. The
camera does the opposite of what the content did: content sliding right means the camera panned
left. The accumulated path is scaled down if it travels further than the plate can cover.
"""

from __future__ import annotations

import math
from pathlib import Path

import cv2
import numpy as np

from reelforge.engines.preview.camera import CameraPath
from reelforge.media.decode import iter_video_frames
from reelforge.media.types import CancelToken, EngineCanceled

PROXY_WIDTH = 256
GRID_STEP = 4
TRIM_KEEP = 0.7
MAX_TRAVEL = 0.45  # of the frame's width (x) and height (y), at background depth
MIN_ZOOM, MAX_ZOOM = 0.75, 1.6


def estimate_motion(
    path: Path,
    frames: int,
    out_fps: int,
    src_fps: float,
    width: int,
    height: int,
    cancel: CancelToken,
) -> CameraPath:
    """The camera path (one view per output frame) that repeats the video's camera motion."""
    deltas = _frame_motion(path, frames, out_fps, src_fps, cancel)
    zoom, x, y = [1.0], [0.0], [0.0]
    for f in range(1, frames):
        tx, ty, a, pw, ph = deltas[(f - 1) % len(deltas)] if deltas else (0, 0, 0, 1, 1)
        to_out = max(width / pw, height / ph)  # the video covers the frame
        z = zoom[-1]
        x.append(x[-1] - tx * to_out / z)
        y.append(y[-1] - ty * to_out / z)
        zoom.append(z * (1.0 + a))
    return _bounded(zoom, x, y, width, height)


def _frame_motion(
    path: Path, frames: int, out_fps: int, src_fps: float, cancel: CancelToken
) -> list[tuple[float, float, float, int, int]]:
    """(tx, ty, scale - 1, proxy width, proxy height) per output frame step, for as many steps
    as the video lasts."""
    ratio = src_fps / out_fps if src_fps > 0 else 1.0
    wanted = [int(f * ratio + 1e-9) for f in range(frames)]
    needed = set(wanted)
    last_needed = wanted[-1] if wanted else 0
    dis = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
    measured: dict[int, tuple[float, float, float, int, int]] = {}
    prev: np.ndarray | None = None
    source = iter_video_frames(path, width=PROXY_WIDTH)
    try:
        for j, rgb in enumerate(source):
            if cancel.is_set():
                raise EngineCanceled("canceled while measuring a reference video's motion")
            if j > last_needed:
                break
            if j not in needed:
                continue
            grey = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
            if prev is not None:
                flow = np.zeros((*grey.shape, 2), np.float32)
                tx, ty, a = _fit(np.asarray(dis.calc(prev, grey, flow)))
                measured[j] = (tx, ty, a, grey.shape[1], grey.shape[0])
            prev = grey
    finally:
        close = getattr(source, "close", None)
        if callable(close):
            close()
    steps: list[tuple[float, float, float, int, int]] = []
    for f in range(1, frames):
        j = wanted[f]
        if j == wanted[f - 1]:
            size = next(iter(measured.values()), (0.0, 0.0, 0.0, 1, 1))[3:]
            steps.append((0.0, 0.0, 0.0, size[0], size[1]))
        elif j in measured:
            steps.append(measured[j])
        else:
            break  # the video ended: its motion repeats from the start
    return steps


def _fit(flow: np.ndarray) -> tuple[float, float, float]:
    """Translation (tx, ty) and scale a (content grows by 1 + a) of a flow field, by trimmed
    least squares about the centre."""
    h, w = flow.shape[:2]
    m = max(2, min(h, w) // 16)
    ys, xs = np.mgrid[m : h - m : GRID_STEP, m : w - m : GRID_STEP]
    u = flow[ys, xs, 0].ravel().astype(np.float64)
    v = flow[ys, xs, 1].ravel().astype(np.float64)
    px = (xs.ravel() - (w - 1) / 2.0).astype(np.float64)
    py = (ys.ravel() - (h - 1) / 2.0).astype(np.float64)
    n = u.size
    ones, zeros = np.ones(n), np.zeros(n)
    a_mat = np.concatenate([np.stack([ones, zeros, px], 1), np.stack([zeros, ones, py], 1)])
    b_vec = np.concatenate([u, v])
    params, *_ = np.linalg.lstsq(a_mat, b_vec, rcond=None)
    residual = np.abs(a_mat @ params - b_vec)
    per_point = residual[:n] + residual[n:]
    keep = per_point <= np.quantile(per_point, TRIM_KEEP)
    both = np.concatenate([keep, keep])
    params, *_ = np.linalg.lstsq(a_mat[both], b_vec[both], rcond=None)
    return float(params[0]), float(params[1]), float(params[2])


def _bounded(
    zoom: list[float], x: list[float], y: list[float], width: int, height: int
) -> CameraPath:
    max_x = max(abs(v) for v in x)
    max_y = max(abs(v) for v in y)
    k = min(
        1.0,
        (MAX_TRAVEL * width / max_x) if max_x > 0 else 1.0,
        (MAX_TRAVEL * height / max_y) if max_y > 0 else 1.0,
    )
    logs = [math.log(z) for z in zoom]
    hi = max(logs)
    lo = min(logs)
    kz = 1.0
    if hi > math.log(MAX_ZOOM):
        kz = min(kz, math.log(MAX_ZOOM) / hi)
    if lo < math.log(MIN_ZOOM):
        kz = min(kz, math.log(MIN_ZOOM) / lo)
    return CameraPath(
        zoom=tuple(math.exp(v * kz) for v in logs),
        x=tuple(v * k for v in x),
        y=tuple(v * k for v in y),
    )
