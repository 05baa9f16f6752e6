"""Subject cut-out from a reference image, classical (no model weights).

The recipe (docs: shared/notes/cpu_engine.md, section 3):
1. a near-uniform border (studio or product shot): a border-colour model, the background fitted
   as a smooth colour surface from the border pixels, the subject being what departs from it;
2. otherwise GrabCut on a small proxy (384 px, see GRABCUT_SIDE) with a centre rectangle;
3. keep the large connected parts; enclosed gaps (between an arm and the body, under the chin)
   stay cut out when their colour is the background's, and only specks and holes that look like
   the subject are filled (a morphological close used to fill 5-10 px gaps with the backdrop);
4. the edge at full resolution: for a studio shot a difference key against the fitted backdrop
   (a mixed pixel's alpha is its colour distance from the backdrop over the subject's, so the
   alpha is the pixel's real coverage), otherwise a colour guided filter (box filters, since
   cv2.ximgproc is not in the plain wheel) of the upscaled mask;
5. colour decontamination: every edge pixel's colour is solved for the subject's own colour
   (F = B + (I - B) / alpha against the local background B), falling back to the nearest
   confident subject colour where alpha is small, so no backdrop colour (a white halo) is laid
   over the new plate;
6. a mask under 5 % or over 90 % of the picture is not believable: fall back to a feathered
   ellipse "card", an honest preview rather than a broken matte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import cv2
import numpy as np

from reelforge.media.types import CancelToken, EngineCanceled

# The notes recommend a 512 px proxy; on our textured test scenes (10 seeds) 384 px gave the same
# or better IoU (mean 0.64 vs 0.56) in under half the time (0.34 s vs 0.79 s on 2 cores).
GRABCUT_SIDE = 384
BORDER_SIDE = 512
MIN_COVERAGE = 0.05
MAX_COVERAGE = 0.90
STUDIO_RESIDUAL = 6.0  # Lab units: border pixels this close to a smooth surface = studio shot
GRABCUT_MARGIN = 0.08
GRABCUT_ITERS = 5
GRABCUT_RNG_SEED = 0x5EED  # GrabCut's k-means init draws from OpenCV's RNG: seed it

Method = Literal["border", "grabcut", "card"]


@dataclass(frozen=True)
class ImageStats:
    """What the stager needs to know about a picture, from a small proxy."""

    border_residual: float  # Lab distance of border pixels from a smooth fitted surface
    detail: float  # mean gradient magnitude (grey levels per pixel) over the whole picture
    border_rgb: tuple[int, int, int]  # mean colour of the border
    mean_rgb: tuple[int, int, int]

    @property
    def is_studio(self) -> bool:
        return self.border_residual < STUDIO_RESIDUAL

    @property
    def background_score(self) -> float:
        """Higher = more like a place than a subject (busy border, lots of detail)."""
        return self.border_residual + 0.5 * self.detail


@dataclass(frozen=True)
class Cutout:
    """The subject cropped to its bounding box: RGB and a soft alpha of the same size."""

    rgb: np.ndarray  # uint8 (h, w, 3)
    alpha: np.ndarray  # uint8 (h, w)
    method: Method
    coverage: float  # mask area / picture area
    touches_bottom: bool  # the subject runs off the bottom edge (a bust, a product on a table)


def image_stats(rgb: np.ndarray) -> ImageStats:
    proxy = _proxy(rgb, 256)
    lab = cv2.cvtColor(proxy, cv2.COLOR_RGB2LAB).astype(np.float32)
    border = _border_mask(proxy.shape[0], proxy.shape[1])
    _, residual = _fit_border_surface(lab, border)
    gray = cv2.cvtColor(proxy, cv2.COLOR_RGB2GRAY)
    gx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    detail = float(np.mean(cv2.magnitude(gx, gy))) / 4.0
    border_rgb = proxy[border].mean(axis=0)
    mean_rgb = proxy.reshape(-1, 3).mean(axis=0)
    return ImageStats(
        border_residual=residual,
        detail=detail,
        border_rgb=_rgb_tuple(border_rgb),
        mean_rgb=_rgb_tuple(mean_rgb),
    )


def cut_out(
    rgb: np.ndarray, studio: bool | None = None, cancel: CancelToken | None = None
) -> Cutout:
    """Cut the main subject out of `rgb`. `studio` forces (or forbids) the border-colour model;
    None decides from the border statistics. `cancel` is checked between GrabCut iterations."""
    h, w = rgb.shape[:2]
    if studio is None:
        studio = image_stats(rgb).is_studio
    method: Method = "border" if studio else "grabcut"
    proxy = _proxy(rgb, BORDER_SIDE if studio else GRABCUT_SIDE)
    mask = _border_model_mask(proxy) if studio else _grabcut_mask(proxy, cancel)
    mask = _clean(mask, cv2.cvtColor(proxy, cv2.COLOR_RGB2LAB))
    coverage = float(np.count_nonzero(mask)) / mask.size
    if not MIN_COVERAGE <= coverage <= MAX_COVERAGE:
        return _card(rgb)
    full = cv2.resize(mask, (w, h), interpolation=cv2.INTER_LINEAR)
    background = _backdrop(rgb) if studio else None
    alpha = _key_alpha(rgb, full, background) if background is not None else _soften(rgb, full)
    clean_rgb = decontaminate(rgb, alpha, background)
    touches_bottom = bool(np.count_nonzero(mask[-2:, :]) > 0.02 * mask.shape[1])
    return _crop(clean_rgb, alpha, method, coverage, touches_bottom)


# --- masks ------------------------------------------------------------------------------------


def _border_model_mask(proxy: np.ndarray) -> np.ndarray:
    lab = cv2.cvtColor(cv2.GaussianBlur(proxy, (3, 3), 0), cv2.COLOR_RGB2LAB).astype(np.float32)
    border = _border_mask(proxy.shape[0], proxy.shape[1])
    surface, residual = _fit_border_surface(lab, border)
    sigma = max(residual, 2.5)
    dist = np.sqrt(np.sum((lab - surface) ** 2, axis=2))
    return (dist > 4.0 * sigma).astype(np.uint8) * 255


def _grabcut_mask(proxy: np.ndarray, cancel: CancelToken | None = None) -> np.ndarray:
    """GrabCut from a centre rectangle, one iteration per call so a cancel is seen between
    iterations (each takes well under a second on the proxy)."""
    h, w = proxy.shape[:2]
    mx, my = round(w * GRABCUT_MARGIN), round(h * GRABCUT_MARGIN)
    rect = (mx, my, w - 2 * mx, h - 2 * my)
    mask = np.zeros((h, w), np.uint8)
    bgd = np.zeros((1, 65), np.float64)
    fgd = np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(GRABCUT_RNG_SEED)
    bgr = cv2.cvtColor(proxy, cv2.COLOR_RGB2BGR)
    for i in range(GRABCUT_ITERS):
        if cancel is not None and cancel.is_set():
            raise EngineCanceled("canceled while cutting out a subject")
        mode = cv2.GC_INIT_WITH_RECT if i == 0 else cv2.GC_EVAL
        cv2.grabCut(bgr, mask, rect, bgd, fgd, 1, mode)
    fg = (mask == cv2.GC_FGD) | (mask == cv2.GC_PR_FGD)
    return fg.astype(np.uint8) * 255


SPECK_SHARE = 0.0005  # holes under this share of the picture are noise: filled


def _clean(mask: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """Open away specks, keep the large parts (>= 15 % of the largest), and decide each
    enclosed hole: filled when it is a speck or its colour is nearer the subject's than the
    border's (a dark collar GrabCut dropped), else left open (the backdrop between an arm and
    the body). No morphological close: it would bridge narrow gaps with the backdrop."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5))
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, kernel)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    if count <= 1:
        return np.zeros_like(mask)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.flatnonzero(areas >= 0.15 * areas.max()) + 1
    mask = np.isin(labels, keep).astype(np.uint8) * 255
    inv = cv2.bitwise_not(mask)
    count, labels, stats, _ = cv2.connectedComponentsWithStats(inv, connectivity=4)
    h, w = mask.shape
    labf = lab.reshape(-1, 3).astype(np.float32)
    border = _border_mask(h, w).ravel()
    subject_lab = labf[mask.ravel() > 0].mean(axis=0)
    backdrop_lab = labf[border & (mask.ravel() == 0)].mean(axis=0) if count > 1 else subject_lab
    for i in range(1, count):
        x, y, bw, bh, area = stats[i]
        if not (x > 0 and y > 0 and x + bw < w and y + bh < h):
            continue  # touches the picture's edge: the outside, not a hole
        hole = labels == i
        if area >= SPECK_SHARE * h * w:
            colour = labf[hole.ravel()].mean(axis=0)
            if np.linalg.norm(colour - backdrop_lab) <= np.linalg.norm(colour - subject_lab):
                continue  # the backdrop seen through a gap: stays cut out
        mask[hole] = 255
    return mask


def _backdrop(rgb: np.ndarray) -> tuple[np.ndarray, float]:
    """A studio picture's backdrop at full resolution (Lab float32, the quadratic surface fitted
    to its border) and the border's residual noise."""
    h, w = rgb.shape[:2]
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    small = _proxy(rgb, 256)
    slab = cv2.cvtColor(small, cv2.COLOR_RGB2LAB).astype(np.float32)
    sh, sw = small.shape[:2]
    surface, residual = _fit_border_surface(slab, _border_mask(sh, sw))
    return lab - cv2.resize(surface, (w, h), interpolation=cv2.INTER_LINEAR), residual


EDGE_BAND = 4  # pixels either side of the mask's edge where alpha is keyed or refined


def _key_alpha(
    rgb: np.ndarray, mask: np.ndarray, background: tuple[np.ndarray, float]
) -> np.ndarray:
    """A difference key near the mask's edge: alpha = |I - B| / |F - B|, with |F - B| the
    subject's own distance from the backdrop nearby; inside and outside the band the mask."""
    diff, residual = background
    hard = mask >= 128
    band = _edge_band(hard, EDGE_BAND)
    out = hard.astype(np.float32)
    box = _box_of(band, 48)  # room for the wide pass of the spread (sigma 24)
    if box is not None:
        y0, y1, x0, x1 = box
        d = diff[y0:y1, x0:x1]
        dist = np.sqrt(np.sum(d * d, axis=2))
        sub_band = band[y0:y1, x0:x1]
        core = hard[y0:y1, x0:x1] & ~sub_band
        fg_dist = _fill_from(dist, core, 6.0)
        noise = 2.5 * max(residual, 1.5)
        alpha = np.clip((dist - noise) / np.maximum(fg_dist - noise, 1.0), 0.0, 1.0)
        out[y0:y1, x0:x1] = np.where(sub_band, alpha, out[y0:y1, x0:x1])
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _edge_band(hard: np.ndarray, radius: int) -> np.ndarray:
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    m = hard.astype(np.uint8)
    return (cv2.dilate(m, k) > 0) & ~(cv2.erode(m, k) > 0)


def _fill_from(values: np.ndarray, known: np.ndarray, sigma: float) -> np.ndarray:
    """`values` spread from the `known` pixels to their neighbourhood (normalised Gaussian
    convolution at two scales: near pixels from close by, the rest from 4x further, that pass
    on a quarter-size copy)."""
    weights = known.astype(np.float32)
    v = values.astype(np.float32)
    weighted = v * weights[:, :, None] if v.ndim == 3 else v * weights
    h, w = weights.shape

    def spread(num: np.ndarray, den: np.ndarray, s: float, shrink: int) -> tuple[Any, Any]:
        if shrink > 1 and min(h, w) >= 4 * shrink:
            size = (max(1, w // shrink), max(1, h // shrink))
            num = cv2.GaussianBlur(
                cv2.resize(num, size, interpolation=cv2.INTER_AREA), (0, 0), s / shrink
            )
            den = cv2.GaussianBlur(
                cv2.resize(den, size, interpolation=cv2.INTER_AREA), (0, 0), s / shrink
            )
            return (
                cv2.resize(num, (w, h), interpolation=cv2.INTER_LINEAR),
                cv2.resize(den, (w, h), interpolation=cv2.INTER_LINEAR),
            )
        return cv2.GaussianBlur(num, (0, 0), s), cv2.GaussianBlur(den, (0, 0), s)

    num, den = spread(weighted, weights, sigma, 1)
    near = num / np.maximum(den[:, :, None] if v.ndim == 3 else den, 1e-6)
    good = (den > 0.02)[:, :, None] if v.ndim == 3 else den > 0.02
    num, den = spread(weighted, weights, 4.0 * sigma, 4)
    far = num / np.maximum(den[:, :, None] if v.ndim == 3 else den, 1e-6)
    return np.asarray(np.where(good, near, far))


def decontaminate(
    rgb: np.ndarray, alpha: np.ndarray, background: tuple[np.ndarray, float] | None = None
) -> np.ndarray:
    """The subject's own colour on its soft edge. Where alpha < 1, solve I = aF + (1 - a)B for
    F against the local background B (the fitted backdrop of a studio shot, else the nearby
    background pixels); where alpha is small that is unstable, so F blends towards the nearest
    confident subject colour. Pixels with alpha 0 or 1 keep their colour."""
    soft = (alpha > 0) & (alpha < 250)
    if not soft.any():
        return rgb.copy()
    # Work on the box around the soft edge (plus room for the spreading): the rest is kept.
    ys, xs = np.nonzero(soft)
    pad = 24
    y0, y1 = max(0, int(ys.min()) - pad), min(rgb.shape[0], int(ys.max()) + pad + 1)
    x0, x1 = max(0, int(xs.min()) - pad), min(rgb.shape[1], int(xs.max()) + pad + 1)
    out = rgb.copy()
    bg_box = None if background is None else (background[0][y0:y1, x0:x1], background[1])
    out[y0:y1, x0:x1] = _decontaminate(rgb[y0:y1, x0:x1], alpha[y0:y1, x0:x1], bg_box)
    return out


def _decontaminate(
    rgb: np.ndarray, alpha: np.ndarray, background: tuple[np.ndarray, float] | None
) -> np.ndarray:
    a = alpha.astype(np.float32) / 255.0
    edge = (a > 0.0) & (a < 0.98)
    img = rgb.astype(np.float32)
    # The subject's colour from pixels well inside (two pixels in from alpha 0.98).
    inner = cv2.erode((a >= 0.98).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
    if not inner.any():
        inner = a >= 0.98
    near_fg = _fill_from(img, inner, 3.0)
    if background is not None:
        lab_b = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32) - background[0]
        bg = cv2.cvtColor(np.clip(lab_b, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)
        bg = bg.astype(np.float32)
    else:
        outer = cv2.erode((a <= 0.02).astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        bg = _fill_from(img, outer, 3.0) if outer.any() else near_fg
    a3 = np.maximum(a, 1e-3)[:, :, None]
    solved = np.clip(bg + (img - bg) / a3, 0.0, 255.0)
    # Trust the solve where alpha is large; towards alpha 0 use the nearby subject colour.
    trust = np.clip((a - 0.35) / 0.5, 0.0, 1.0)[:, :, None]
    colour = trust * solved + (1.0 - trust) * near_fg
    out = np.where(edge[:, :, None], colour, img)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _soften(rgb: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """A soft alpha: the upscaled mask refined by a guided filter with the picture's Lab
    lightness and colour as the guide (edges follow the picture), then clipped to the band
    around the mask's edge, so hair and fur fade rather than stair-step and no stray alpha
    appears far from the subject. Only the box around the band is filtered."""
    h, w = mask.shape
    radius = max(2, round(min(h, w) / 200))
    hard = mask >= 128
    band = _edge_band(hard, EDGE_BAND)
    out = hard.astype(np.float32)
    box = _box_of(band, 3 * radius + 2)
    if box is not None:
        y0, y1, x0, x1 = box
        guide = cv2.cvtColor(rgb[y0:y1, x0:x1], cv2.COLOR_RGB2LAB).astype(np.float32) / 255.0
        src = cv2.GaussianBlur(mask[y0:y1, x0:x1], (0, 0), radius / 2).astype(np.float32) / 255.0
        alpha = np.zeros(src.shape, np.float32)
        for c in range(3):  # one guide channel at a time, averaged: cheap and colour-aware
            alpha += _guided_filter(guide[:, :, c], src, radius, 1e-3)
        alpha /= 3.0
        sub = band[y0:y1, x0:x1]
        out[y0:y1, x0:x1] = np.where(sub, alpha, out[y0:y1, x0:x1])
    return np.clip(out * 255.0 + 0.5, 0, 255).astype(np.uint8)


def _box_of(where: np.ndarray, pad: int) -> tuple[int, int, int, int] | None:
    """(y0, y1, x0, x1) around the true pixels, `pad` wider, inside the picture."""
    ys = np.flatnonzero(where.any(axis=1))
    xs = np.flatnonzero(where.any(axis=0))
    if ys.size == 0:
        return None
    h, w = where.shape
    return (
        max(0, int(ys[0]) - pad),
        min(h, int(ys[-1]) + pad + 1),
        max(0, int(xs[0]) - pad),
        min(w, int(xs[-1]) + pad + 1),
    )


def _guided_filter(guide: np.ndarray, src: np.ndarray, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter with box filters (cv2.ximgproc is not in the plain wheel)."""
    size = (2 * radius + 1, 2 * radius + 1)

    def box(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, cv2.CV_32F, size, borderType=cv2.BORDER_REFLECT)

    mean_i = box(guide)
    mean_p = box(src)
    cov_ip = box(guide * src) - mean_i * mean_p
    var_i = box(guide * guide) - mean_i * mean_i
    a = cov_ip / (var_i + eps)
    b = mean_p - a * mean_i
    return np.asarray(box(a) * guide + box(b))


def _card(rgb: np.ndarray) -> Cutout:
    """The fallback: the picture inside a feathered ellipse."""
    h, w = rgb.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    cv2.ellipse(mask, (w // 2, h // 2), (round(w * 0.42), round(h * 0.44)), 0, 0, 360, 255, -1)
    sigma = 0.04 * min(h, w)
    alpha = cv2.GaussianBlur(mask, (0, 0), sigma)
    return Cutout(
        rgb=rgb.copy(),
        alpha=alpha,
        method="card",
        coverage=float(np.count_nonzero(mask)) / mask.size,
        touches_bottom=False,
    )


def _crop(
    rgb: np.ndarray, alpha: np.ndarray, method: Method, coverage: float, touches_bottom: bool
) -> Cutout:
    ys, xs = np.nonzero(alpha > 8)
    h, w = alpha.shape
    pad = max(2, round(0.01 * max(h, w)))
    y0, y1 = max(0, int(ys.min()) - pad), min(h, int(ys.max()) + pad + 1)
    x0, x1 = max(0, int(xs.min()) - pad), min(w, int(xs.max()) + pad + 1)
    return Cutout(
        rgb=np.ascontiguousarray(rgb[y0:y1, x0:x1]),
        alpha=np.ascontiguousarray(alpha[y0:y1, x0:x1]),
        method=method,
        coverage=coverage,
        touches_bottom=touches_bottom,
    )


# --- helpers ----------------------------------------------------------------------------------


def _proxy(rgb: np.ndarray, side: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    scale = side / max(h, w)
    if scale >= 1.0:
        return rgb
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def _border_mask(h: int, w: int) -> np.ndarray:
    k = max(2, round(0.03 * min(h, w)))
    border = np.zeros((h, w), bool)
    border[:k, :] = border[-k:, :] = True
    border[:, :k] = border[:, -k:] = True
    return border


def _fit_border_surface(lab: np.ndarray, border: np.ndarray) -> tuple[np.ndarray, float]:
    """Fit each Lab channel as a quadratic in (x, y) to the border pixels (studio sweeps and
    vignettes are smooth); return the surface over the whole picture and the border's RMS
    residual from it."""
    h, w = border.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    xx = xx / max(1, w - 1) - 0.5
    yy = yy / max(1, h - 1) - 0.5
    basis = np.stack([np.ones_like(xx), xx, yy, xx * xx, xx * yy, yy * yy], axis=-1)
    a = basis[border]
    b = lab[border]
    coef, *_ = np.linalg.lstsq(a, b, rcond=None)
    surface = (basis.reshape(-1, 6) @ coef).reshape(h, w, 3).astype(np.float32)
    residual = float(np.sqrt(np.mean(np.sum((b - a @ coef) ** 2, axis=1))))
    return surface, residual


def _rgb_tuple(v: np.ndarray) -> tuple[int, int, int]:
    return round(float(v[0])), round(float(v[1])), round(float(v[2]))
