"""One streaming pass over an encoded video's frames, at analysis size, for the quality report.

Every frame is decoded once; its luma plane is shrunk to a small grey picture (160 px wide) from
which the per-frame measures come: mean luma, the mean absolute difference to the previous
frame, and the camera's global motion between the two (DIS optical flow, ultrafast preset, then
a fit of translation and zoom). A few frames (one per shot, chosen before decoding) are also
kept at 480 px for reference matching. Nothing else is held: memory stays flat with duration.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np

SMALL_WIDTH = 160
SAMPLE_WIDTH = 480


@dataclass
class FrameMeasures:
    width: int = 0  # the small pictures' size
    height: int = 0
    luma: list[float] = field(default_factory=list)  # mean grey level per frame
    diff: list[float] = field(default_factory=list)  # mean |frame - previous|; 0.0 for frame 0
    # Global motion from the previous frame (content motion): x, y in frame widths/heights,
    # zoom as a log scale change; 0.0 for frame 0.
    dx: list[float] = field(default_factory=list)
    dy: list[float] = field(default_factory=list)
    dzoom: list[float] = field(default_factory=list)
    samples: dict[int, np.ndarray] = field(default_factory=dict)  # frame index -> grey 480 px

    @property
    def count(self) -> int:
        return len(self.luma)


def measure_frames(path: Path | str, sample_at: Iterable[int] = ()) -> FrameMeasures:
    wanted = set(sample_at)
    out = FrameMeasures()
    flow = cv2.DISOpticalFlow.create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
    prev: np.ndarray | None = None
    grid: tuple[np.ndarray, np.ndarray] | None = None
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for index, frame in enumerate(container.decode(stream)):
            if not out.width:
                out.width = SMALL_WIDTH
                out.height = max(2, round(frame.height * SMALL_WIDTH / frame.width / 2) * 2)
            luma = _luma(frame)
            # Halve first (a 5x5 Gaussian, cheap), then linear: close to an area average at a
            # fraction of INTER_AREA's cost for these non-integer ratios.
            half = cv2.pyrDown(luma) if luma.shape[1] >= 4 * out.width else luma
            small = cv2.resize(half, (out.width, out.height), interpolation=cv2.INTER_LINEAR)
            if index in wanted:
                sh = max(2, round(frame.height * SAMPLE_WIDTH / frame.width))
                out.samples[index] = cv2.resize(
                    luma, (SAMPLE_WIDTH, sh), interpolation=cv2.INTER_AREA
                )
            out.luma.append(float(small.mean()))
            if prev is None:
                out.diff.append(0.0)
                out.dx.append(0.0)
                out.dy.append(0.0)
                out.dzoom.append(0.0)
            else:
                out.diff.append(float(cv2.absdiff(small, prev).mean()))
                if grid is None:
                    grid = _grid(out.width, out.height)
                f = np.asarray(flow.calc(prev, small, None))  # type: ignore[call-overload]
                dx, dy, dz = _global_motion(f, grid)
                out.dx.append(dx / out.width)
                out.dy.append(dy / out.height)
                out.dzoom.append(dz)
            prev = small
    return out


def _luma(frame: av.VideoFrame) -> np.ndarray:
    """The frame's luma plane as a (h, w) uint8 view, without a colour conversion (planar
    YUV, the encoders' output); other formats are converted to grey."""
    if frame.format.name in ("yuv420p", "yuvj420p", "yuv422p", "yuv444p", "nv12"):
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), np.uint8).reshape(frame.height, plane.line_size)
        return np.ascontiguousarray(rows[:, : frame.width])
    return np.asarray(frame.to_ndarray(format="gray"))


def _grid(w: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return xs - (w - 1) / 2.0, ys - (h - 1) / 2.0


def _global_motion(
    flow: np.ndarray, grid: tuple[np.ndarray, np.ndarray]
) -> tuple[float, float, float]:
    """Translation (median flow, px) and zoom (least-squares radial component: flow = t + s r,
    as log(1 + s)) of a dense flow field; the 10 % border is left out (flow is poorest there)."""
    h, w = flow.shape[:2]
    my, mx = h // 10, w // 10
    fx = flow[my : h - my, mx : w - mx, 0]
    fy = flow[my : h - my, mx : w - mx, 1]
    rx = grid[0][my : h - my, mx : w - mx]
    ry = grid[1][my : h - my, mx : w - mx]
    tx, ty = float(np.median(fx)), float(np.median(fy))
    s = float(((fx - tx) * rx + (fy - ty) * ry).sum() / max(1e-6, float((rx * rx + ry * ry).sum())))
    return tx, ty, float(np.log1p(max(-0.5, s)))
