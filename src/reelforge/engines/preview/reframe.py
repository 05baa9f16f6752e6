"""Smart reframing: where to crop a picture to another aspect ratio so the interesting part
stays in frame, instead of always cutting the centre.

Interest is a cheap contrast-energy map (cv2.saliency is not in the plain OpenCV wheel): the
gradient magnitude plus each pixel's colour distance from the picture's mean colour, on a
128 px proxy, blurred. The crop window of the wanted aspect slides along the axis the picture
has to spare; the window holding the most energy wins, with a mild pull to the centre so a
flat picture stays centred.
"""

from __future__ import annotations

import cv2
import numpy as np

PROXY_SIDE = 128
CENTRE_PULL = 0.15  # at most this share of the energy is traded for staying centred


def energy_map(rgb: np.ndarray) -> np.ndarray:
    """Contrast energy of a picture on a small proxy (float32, the proxy's size)."""
    h, w = rgb.shape[:2]
    s = PROXY_SIDE / max(h, w)
    proxy = rgb
    if s < 1.0:
        size = (max(2, round(w * s)), max(2, round(h * s)))
        proxy = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    lab = cv2.cvtColor(proxy, cv2.COLOR_RGB2LAB).astype(np.float32)
    grey = lab[:, :, 0]
    gx = cv2.Sobel(grey, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(grey, cv2.CV_32F, 0, 1, ksize=3)
    gradient = cv2.magnitude(gx, gy)
    distinct = np.sqrt(((lab - lab.reshape(-1, 3).mean(axis=0)) ** 2).sum(axis=2))
    energy = gradient / (float(gradient.mean()) + 1e-6) + distinct / (float(distinct.mean()) + 1e-6)
    sigma = 0.04 * max(proxy.shape[:2])
    return np.asarray(cv2.GaussianBlur(energy, (0, 0), sigma), np.float32)


def crop_centre(rgb: np.ndarray, aspect: float) -> tuple[float, float]:
    """The centre (source pixels) of the best crop window of `aspect` (width / height), the
    window being as large as the picture allows."""
    h, w = rgb.shape[:2]
    if w / h > aspect * 1.001:  # wider than wanted: choose x
        return _best_along(energy_map(rgb).sum(axis=0), w, h * aspect), (h - 1) / 2.0
    if w / h < aspect / 1.001:  # taller than wanted: choose y
        return (w - 1) / 2.0, _best_along(energy_map(rgb).sum(axis=1), h, w / aspect)
    return (w - 1) / 2.0, (h - 1) / 2.0


def _best_along(profile: np.ndarray, length: int, window: float) -> float:
    """Centre (source pixels, along an axis of `length`) of the window of size `window` whose
    share of the energy `profile` (sampled on the proxy) is largest."""
    n = profile.size
    k = max(1, min(n, round(window / length * n)))
    if k >= n:
        return (length - 1) / 2.0
    sums = np.convolve(profile.astype(np.float64), np.ones(k), mode="valid")  # n - k + 1
    sums += 1e-6 * (float(sums.max()) + 1.0)  # a flat picture: the pull alone decides
    positions = np.arange(sums.size)
    mid = (sums.size - 1) / 2.0
    pull = 1.0 - CENTRE_PULL * ((positions - mid) / max(mid, 1.0)) ** 2
    best = int(np.argmax(sums * pull))
    centre_proxy = best + k / 2.0  # in proxy samples
    centre = centre_proxy / n * length - 0.5
    middle = (length - 1) / 2.0
    if abs(centre - middle) <= length / n:  # within a proxy sample of the middle: the middle
        return middle
    return float(np.clip(centre, window / 2 - 0.5, length - window / 2 - 0.5))
