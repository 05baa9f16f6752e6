"""Frontal face detection with OpenCV's Viola-Jones Haar cascade, evaluated in numpy.

OpenCV 5 dropped `cv2.CascadeClassifier` (and HOG people detection) from the wheels, and no
registry package ships a face model for `cv2.FaceDetectorYN`. The Haar cascade itself is small
data: `cascades/haarcascade_frontalface_default.xml.gz` is OpenCV 4.10's
`haarcascade_frontalface_default.xml` (Rainer Lienhart, Intel License Agreement, kept in the
file), gzipped. It is evaluated here the way OpenCV does it:

- an image pyramid (scale step 1.1), a 24x24 window every 2 pixels (every pixel past 2x);
- each window normalised by its standard deviation (over the inner 22x22 rectangle);
- 25 boosted stages of decision stumps on Haar features (sums of 2-3 weighted rectangles read
  from an integral image); a window is a face when it passes every stage;
- overlapping hits grouped (OpenCV's `groupRectangles`, eps 0.2), groups with fewer than
  `min_neighbors` + 1 hits dropped, and a hit inside a larger one dropped.

All pyramid levels are stacked in one integral image with a common row stride, so a feature's
four corner reads are fixed offsets from a window's origin at every level: a whole stage is one
gather and one dot product over the surviving windows. About 0.1-0.3 s for a 512 px picture
on one core.
"""

from __future__ import annotations

import gzip
import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

CASCADE = Path(__file__).parent / "cascades" / "haarcascade_frontalface_default.xml.gz"
SCALE_STEP = 1.1
MIN_NEIGHBORS = 7
RELATIVE_SUPPORT = 0.5  # a face needs at least this share of the best face's hits
GROUP_EPS = 0.2
_CHUNK_ELEMENTS = 3_000_000  # gathered values per block of windows (bounds the memory)


@dataclass(frozen=True)
class Face:
    """A face box in the picture's pixels."""

    x: float
    y: float
    w: float
    h: float

    @property
    def x1(self) -> float:
        return self.x + self.w

    @property
    def y1(self) -> float:
        return self.y + self.h

    def scaled(self, s: float) -> Face:
        return Face(self.x * s, self.y * s, self.w * s, self.h * s)


@dataclass(frozen=True)
class _Stage:
    threshold: float
    weights: np.ndarray  # (K, 3) rectangle weights (0 for a missing third rectangle)
    node_threshold: np.ndarray  # (K,)
    left: np.ndarray  # (K,) leaf value when the feature is below its threshold
    right: np.ndarray  # (K,)


@dataclass(frozen=True)
class _Cascade:
    size: tuple[int, int]  # window width, height
    stages: tuple[_Stage, ...]
    corners_dy: tuple[np.ndarray, ...]  # per stage (K, 12)
    corners_dx: tuple[np.ndarray, ...]


@lru_cache(maxsize=1)
def _cascade() -> _Cascade:
    root = ET.fromstring(gzip.decompress(CASCADE.read_bytes()))
    node = root.find("cascade")
    assert node is not None
    width = int(node.findtext("width") or 24)
    height = int(node.findtext("height") or 24)
    features = []
    for feat in node.findall("features/_"):
        rects = []
        for rect in feat.findall("rects/_"):
            x, y, w, h, weight = (float(v) for v in (rect.text or "").split())
            rects.append((int(x), int(y), int(w), int(h), weight))
        features.append(rects)
    stages = []
    dys, dxs = [], []
    for st in node.findall("stages/_"):
        weak = st.findall("weakClassifiers/_")
        k = len(weak)
        dy = np.zeros((k, 12), np.int64)
        dx = np.zeros((k, 12), np.int64)
        weights = np.zeros((k, 3), np.float64)
        thr = np.zeros(k)
        left = np.zeros(k)
        right = np.zeros(k)
        for j, clf in enumerate(weak):
            nodes = (clf.findtext("internalNodes") or "").split()
            leaves = (clf.findtext("leafValues") or "").split()
            feature = features[int(nodes[2])]
            thr[j] = float(nodes[3])
            left[j], right[j] = float(leaves[0]), float(leaves[1])
            for r, (rx, ry, rw, rh, weight) in enumerate(feature):
                dy[j, 4 * r : 4 * r + 4] = (ry, ry, ry + rh, ry + rh)
                dx[j, 4 * r : 4 * r + 4] = (rx, rx + rw, rx, rx + rw)
                weights[j, r] = weight
        stages.append(
            _Stage(
                threshold=float(st.findtext("stageThreshold") or 0.0),
                weights=weights,
                node_threshold=thr,
                left=left,
                right=right,
            )
        )
        dys.append(dy)
        dxs.append(dx)
    return _Cascade((width, height), tuple(stages), tuple(dys), tuple(dxs))


def detect_faces(
    image: np.ndarray,
    *,
    min_size: int = 24,
    max_side: int = 256,
    min_neighbors: int = MIN_NEIGHBORS,
) -> list[Face]:
    """Frontal faces in an RGB (or grey) uint8 picture, in its pixels, largest first.

    The picture is first shrunk so its long side is at most `max_side` (faces smaller than
    24 px there are not found); `min_size` is in the proxy's pixels."""
    grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    h, w = grey.shape
    s = min(1.0, max_side / max(h, w))
    if s < 1.0:
        size = (max(1, round(w * s)), max(1, round(h * s)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
    grey = cv2.equalizeHist(grey)
    hits = _detect(grey, max(min_size, 24))
    faces = _group(hits, min_neighbors)
    faces.sort(key=lambda f: -f.w * f.h)
    return [f.scaled(1.0 / s) for f in faces]


def _detect(grey: np.ndarray, min_size: int) -> list[tuple[float, float, float, float]]:
    cas = _cascade()
    ww, wh = cas.size
    h0, w0 = grey.shape
    levels = []
    f = 1.0
    while True:
        lw, lh = round(w0 / f), round(h0 / f)
        if lw < ww or lh < wh:
            break
        if ww * f >= min_size:
            levels.append((f, lw, lh))
        f *= SCALE_STEP
    if not levels:
        return []
    stride = max(lw for _, lw, _ in levels) + 1
    rows = sum(lh + 1 for _, _, lh in levels)
    ii = np.zeros((rows, stride), np.int32)
    sq = np.zeros((rows, stride), np.float64)
    starts = []
    base_idx = []
    factors = []
    r0 = 0
    for f, lw, lh in levels:
        level = (
            grey
            if (lw, lh) == (w0, h0)
            else cv2.resize(grey, (lw, lh), interpolation=cv2.INTER_LINEAR)
        )
        s, q = cv2.integral2(level, sdepth=cv2.CV_32S, sqdepth=cv2.CV_64F)
        ii[r0 : r0 + lh + 1, : lw + 1] = s
        sq[r0 : r0 + lh + 1, : lw + 1] = q
        step = 1 if f > 2.0 else 2
        ys, xs = np.mgrid[0 : lh - wh + 1 : step, 0 : lw - ww + 1 : step]
        base_idx.append(((r0 + ys) * stride + xs).ravel())
        factors.append(np.full(ys.size, f))
        starts.append(r0)
        r0 += lh + 1
    p = np.concatenate(base_idx)
    fac = np.concatenate(factors)
    flat, flat_sq = ii.ravel(), sq.ravel()
    # Variance normalisation over the inner (w-2) x (h-2) rectangle, as OpenCV does.
    a, b = 1 * stride + 1, 1 * stride + (ww - 1)
    c, d = (wh - 1) * stride + 1, (wh - 1) * stride + (ww - 1)
    area = float((ww - 2) * (wh - 2))
    vsum = (flat[p + a] - flat[p + b] - flat[p + c] + flat[p + d]).astype(np.float64)
    vsq = flat_sq[p + a] - flat_sq[p + b] - flat_sq[p + c] + flat_sq[p + d]
    nf = area * vsq - vsum * vsum
    inv = np.where(nf > 0, 1.0 / np.sqrt(np.maximum(nf, 1e-12)), 1.0)
    keep = np.arange(p.size)
    for stage, dy, dx in zip(cas.stages, cas.corners_dy, cas.corners_dx, strict=True):
        if keep.size == 0:
            return []
        offs = dy * stride + dx  # (K, 12)
        k = offs.shape[0]
        chunk = max(1, _CHUNK_ELEMENTS // (k * 12))
        passed = []
        for i in range(0, keep.size, chunk):
            idx = keep[i : i + chunk]
            # Exact integer rectangle sums (n, K, 3), then the features' weights.
            corners = np.take(flat, p[idx][:, None, None] + offs[None, :, :])  # (n, K, 12)
            q = corners.reshape(idx.size, k, 3, 4)
            sums = (q[..., 0] - q[..., 1]) - (q[..., 2] - q[..., 3])  # (n, K, 3)
            feat = np.einsum("nkr,kr->nk", sums, stage.weights) * inv[idx][:, None]
            score = np.where(feat < stage.node_threshold, stage.left, stage.right).sum(axis=1)
            passed.append(idx[score >= stage.threshold])
        keep = np.concatenate(passed)
    out = []
    for i in keep.tolist():
        factor = float(fac[i])
        row, col = divmod(int(p[i]), stride)
        lvl = max(j for j, st in enumerate(starts) if st <= row)
        top = row - starts[lvl]
        out.append((col * factor, top * factor, ww * factor, wh * factor))
    return out


def _group(rects: list[tuple[float, float, float, float]], min_neighbors: int) -> list[Face]:
    """OpenCV's groupRectangles: cluster similar boxes, average each cluster, keep clusters of
    more than `min_neighbors` boxes, then drop a box inside a larger, better-supported one.
    Groups with under `RELATIVE_SUPPORT` of the best group's boxes are dropped too: on the
    scikit-image photos the cascade's false hits (a shoulder patch, coins) have 6-7 hits
    where a real face has 15 or more."""
    n = len(rects)
    if n == 0:
        return []
    parent = list(range(n))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(n):
        xi, yi, wi, hi = rects[i]
        for j in range(i + 1, n):
            xj, yj, wj, hj = rects[j]
            delta = GROUP_EPS * (min(wi, wj) + min(hi, hj)) * 0.5
            if (
                abs(xi - xj) <= delta
                and abs(yi - yj) <= delta
                and abs(xi + wi - xj - wj) <= delta
                and abs(yi + hi - yj - hj) <= delta
            ):
                parent[find(i)] = find(j)
    clusters: dict[int, list[int]] = {}
    for i in range(n):
        clusters.setdefault(find(i), []).append(i)
    boxes = []
    for members in clusters.values():
        if len(members) <= min_neighbors:
            continue
        arr = np.array([rects[i] for i in members])
        boxes.append((arr.mean(axis=0), len(members)))
    best = max((nb for _, nb in boxes), default=0)
    boxes = [(b, nb) for b, nb in boxes if nb >= RELATIVE_SUPPORT * best]
    out = []
    for i, (bi, ni) in enumerate(boxes):
        inside = False
        for j, (bj, nj) in enumerate(boxes):
            if i == j or nj <= max(3, ni):
                continue
            dx, dy = bj[2] * GROUP_EPS, bj[3] * GROUP_EPS
            if (
                bi[0] >= bj[0] - dx
                and bi[1] >= bj[1] - dy
                and bi[0] + bi[2] <= bj[0] + bj[2] + dx
                and bi[1] + bi[3] <= bj[1] + bj[3] + dy
            ):
                inside = True
                break
        if not inside:
            out.append(Face(*(float(v) for v in bi)))
    return out


def person_box(face: Face, width: int, height: int) -> tuple[float, float, float, float]:
    """Where the whole person of a detected face probably is (x0, y0, x1, y1), clipped to the
    picture: a head-and-shoulders width (3.4 face widths) from a little above the head down to
    about seven face heights below it (or the picture's bottom)."""
    cx = face.x + face.w / 2.0
    x0 = max(0.0, cx - 1.7 * face.w)
    x1 = min(float(width), cx + 1.7 * face.w)
    y0 = max(0.0, face.y - 0.45 * face.h)
    y1 = min(float(height), face.y1 + 6.5 * face.h)
    return x0, y0, x1, y1


def face_margin_ok(face: Face, width: int, height: int, margin: float = 0.0) -> bool:
    """Whether a face box lies inside a width x height frame, `margin` (share of the face size)
    clear of every edge."""
    mx, my = margin * face.w, margin * face.h
    return (
        face.x >= mx
        and face.y >= my
        and face.x1 <= width - mx
        and face.y1 <= height - my
        and not math.isnan(face.x)
    )
