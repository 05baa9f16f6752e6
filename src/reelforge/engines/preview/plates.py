"""The plates: what is behind the subjects in each shot, chosen and prepared once per render.

A shot's plate is a pinned first or last frame (the picture the output must show exactly), the
background image (framed on its faces when it has a person), a reference video that is not a
motion source (looping, decoded lazily at plate size), or a generated backdrop; each is sized to
cover everything the camera ever sees, with bounded oversampling, and graded in the shot's look.
`plate_keys` names the plates a shot needs, `plate_source` makes one; a `PlateSource` gives the
plate of any output frame.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from reelforge.core.references import StoredReference
from reelforge.engines.base import RenderRequest
from reelforge.engines.preview.backdrop import gradient_backdrop, prompt_colours, studio_colours
from reelforge.engines.preview.compose import Plate
from reelforge.engines.preview.cutout import ImageStats
from reelforge.engines.preview.framing import find_subject, framed_plate, wants_close_up
from reelforge.engines.preview.grade import apply_grade
from reelforge.engines.preview.reframe import crop_centre
from reelforge.engines.preview.staging import ShotStage
from reelforge.engines.preview.video_plate import LoopingVideo
from reelforge.media.decode import iter_video_frames
from reelforge.media.probe import probe_media
from reelforge.planning.model import Look
from reelforge.spec import ReferenceKind

MAX_PLATE_OVERSAMPLE = 2.0  # plate pixels per output pixel at most: sharp zooms, bounded cost
VIDEO_OVERSAMPLE = 1.25


class VideoPlate:
    """A looping reference video as a plate: `plate_at(i)` is the plate of output frame i."""

    def __init__(
        self,
        video: LoopingVideo,
        look: Look,
        px_per_unit: float,
        anchor: tuple[float, float],
    ) -> None:
        self._video = video
        self._look = look
        self._k = px_per_unit
        self._anchor = anchor
        self._last: tuple[int, Plate] | None = None

    def plate_at(self, index: int) -> Plate:
        frame = self._video.frame_at(index)
        version = self._video.version
        if self._last is not None and self._last[0] == version:
            return self._last[1]
        plate = Plate(apply_grade(frame, self._look), self._k, self._anchor)
        self._last = (version, plate)
        return plate

    def version_at(self, index: int) -> int:
        self._video.frame_at(index)
        return self._video.version

    def close(self) -> None:
        self._video.close()


class StillPlate:
    def __init__(self, plate: Plate) -> None:
        self._plate = plate

    def plate_at(self, index: int) -> Plate:
        return self._plate

    def version_at(self, index: int) -> int:
        return 0

    def close(self) -> None:
        pass


PlateSource = StillPlate | VideoPlate


def plate_keys(stage: ShotStage, request: RenderRequest) -> list[tuple[object, ...]]:
    """The plate(s) of a shot: a pinned picture (two when pinned at both ends to different
    pictures), else the background image, a reference video, or a generated backdrop, each in
    the shot's look."""
    if stage.pin_start is not None or stage.pin_end is not None:
        ends = [i for i in (stage.pin_start, stage.pin_end) if i is not None]
        return [("pinned", i) for i in dict.fromkeys(ends)]
    look = stage.shot.look
    if stage.background is not None:
        return [("image", stage.background, look)]
    videos = _plate_videos(request)
    if videos:
        return [("video", videos[0].index, look)]
    return [("backdrop", look)]


def plate_label(key: tuple[object, ...]) -> str:
    kind, *rest = key
    if kind in ("image", "pinned"):
        return f"{kind} @Image{rest[0]}"
    if kind == "video":
        return f"video @Video{rest[0]}"
    return str(kind)


def _plate_videos(request: RenderRequest) -> list[StoredReference]:
    """Reference videos that are plates: those no shot uses as a motion source."""
    motion = {s.motion_video for s in request.plan.shots}
    return sorted(
        (r for r in request.refs(ReferenceKind.VIDEO) if r.index not in motion),
        key=lambda r: r.index,
    )


def plate_source(
    key: tuple[object, ...],
    request: RenderRequest,
    images: dict[int, np.ndarray],
    stats: dict[int, ImageStats],
    extent: tuple[float, float],
    max_zoom: float,
    window: tuple[float, float, float, float],
) -> PlateSource:
    kind = key[0]
    if kind == "pinned":
        assert isinstance(key[1], int)
        return StillPlate(_pinned_plate(images[key[1]], request.width, request.height, extent))
    look = key[-1]
    assert isinstance(look, Look)
    if kind == "image":
        assert isinstance(key[1], int)
        rgb = images[key[1]]
        close_up = wants_close_up(request.prompt)
        subject = find_subject(rgb, close_up)
        if subject is None:
            plate = _still_plate(rgb, extent, max_zoom)
        else:
            oversample = min(MAX_PLATE_OVERSAMPLE, max(1.0, max_zoom))
            plate, extended = framed_plate(rgb, subject, window, extent, oversample)
            request.log(
                f"preview: @Image{key[1]} framed on {len(subject.faces)} face(s)"
                + (" (close-up)" if close_up else " (whole person)")
                + (", on an extended plate" if extended else "")
            )
        return StillPlate(Plate(apply_grade(plate.image, look), plate.px_per_unit, plate.anchor))
    if kind == "video":
        ref = next(r for r in _plate_videos(request) if r.index == key[1])
        return _video_plate(ref, request.fps, look, extent, max_zoom)
    # A backdrop: from a lone studio subject's own colours, else from the prompt.
    pw, ph = math.ceil(2 * extent[0]) + 2, math.ceil(2 * extent[1]) + 2
    studio = [s for s in stats.values() if s.is_studio]
    if studio:
        top, bottom = studio_colours(studio[0].border_rgb)
        accent: tuple[int, int, int] | None = studio[0].mean_rgb
    else:
        top, bottom = prompt_colours(request.prompt, request.seed)
        accent = None
    image = gradient_backdrop(pw, ph, top, bottom, request.seed, accent)
    return StillPlate(Plate(apply_grade(image, look), 1.0))


def _still_plate(rgb: np.ndarray, extent: tuple[float, float], max_zoom: float) -> Plate:
    """The picture scaled so it covers everything the camera sees, with at most
    `MAX_PLATE_OVERSAMPLE` (or the deepest zoom) pixels per output pixel, anchored where a
    smart crop to the view's shape puts its centre (the centre of interest, not of the
    picture)."""
    h, w = rgb.shape[:2]
    k = min(w / (2.0 * extent[0]), h / (2.0 * extent[1]))
    wanted = min(MAX_PLATE_OVERSAMPLE, max(1.0, max_zoom))
    if k > wanted * 1.05:
        s = wanted / k
        rgb = cv2.resize(
            rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA
        )
        h, w = rgb.shape[:2]
        k = min(w / (2.0 * extent[0]), h / (2.0 * extent[1]))
    return Plate(image=rgb, px_per_unit=k, anchor=_anchor(rgb, extent, k))


def _anchor(rgb: np.ndarray, extent: tuple[float, float], k: float) -> tuple[float, float]:
    """The smart crop's centre, kept far enough from the edges that the plate still covers
    the extent."""
    h, w = rgb.shape[:2]
    cx, cy = crop_centre(rgb, extent[0] / extent[1])
    half_w, half_h = extent[0] * k, extent[1] * k
    cx = min(max(cx, half_w - 0.5), w - half_w - 0.5) if w > 2 * half_w else (w - 1) / 2.0
    cy = min(max(cy, half_h - 0.5), h - half_h - 0.5) if h > 2 * half_h else (h - 1) / 2.0
    return cx, cy


def _pinned_plate(rgb: np.ndarray, width: int, height: int, extent: tuple[float, float]) -> Plate:
    """A picture the output must show exactly (first/last frame): its smart crop to the output
    shape, resized to exactly the output size, at one pixel per world unit, so the identity view
    copies it pixel for pixel. Around it, as far as the shot's camera looks, the rest of the
    picture at the same scale, and past the picture's edges a blurred stretch of it."""
    h, w = rgb.shape[:2]
    aspect = width / height
    cx, cy = crop_centre(rgb, aspect)
    win_w, win_h = (h * aspect, h) if w / h > aspect else (w, w / aspect)
    x0 = min(max(0.0, cx + 0.5 - win_w / 2.0), w - win_w)
    y0 = min(max(0.0, cy + 0.5 - win_h / 2.0), h - win_h)
    crop = rgb[round(y0) : round(y0) + round(win_h), round(x0) : round(x0) + round(win_w)]
    core = cv2.resize(crop, (width, height), interpolation=cv2.INTER_AREA)
    pad_x = max(0, math.ceil(extent[0] - width / 2.0) + 2)
    pad_y = max(0, math.ceil(extent[1] - height / 2.0) + 2)
    if pad_x == 0 and pad_y == 0:
        return Plate(core, 1.0, ((width - 1) / 2.0, (height - 1) / 2.0))
    cw, ch = width + 2 * pad_x, height + 2 * pad_y
    canvas = cv2.resize(rgb, (cw, ch), interpolation=cv2.INTER_AREA)
    canvas = cv2.GaussianBlur(canvas, (0, 0), 0.02 * max(cw, ch))
    s = width / win_w
    full = cv2.resize(
        rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA
    )
    ox, oy = pad_x - round(x0 * s), pad_y - round(y0 * s)
    _paste(canvas, full, ox, oy)
    canvas[pad_y : pad_y + height, pad_x : pad_x + width] = core
    return Plate(canvas, 1.0, (pad_x + (width - 1) / 2.0, pad_y + (height - 1) / 2.0))


def _paste(dst: np.ndarray, src: np.ndarray, ox: int, oy: int) -> None:
    dh, dw = dst.shape[:2]
    sh, sw = src.shape[:2]
    x0, y0 = max(0, ox), max(0, oy)
    x1, y1 = min(dw, ox + sw), min(dh, oy + sh)
    if x1 > x0 and y1 > y0:
        dst[y0:y1, x0:x1] = src[y0 - oy : y1 - oy, x0 - ox : x1 - ox]


def _video_plate(
    ref: StoredReference, fps: int, look: Look, extent: tuple[float, float], max_zoom: float
) -> VideoPlate:
    vw, vh, vfps = ref.width, ref.height, ref.fps
    if vw is None or vh is None or vfps is None:
        info = probe_media(ref.path, count_frames=False)
        vw, vh, vfps = vw or info.width, vh or info.height, vfps or info.fps
    if not vw or not vh:
        vw, vh = 16, 9
    k = min(VIDEO_OVERSAMPLE, max(1.0, max_zoom))
    f = max(2.0 * extent[0] * k / vw, 2.0 * extent[1] * k / vh)
    size = (max(2, math.ceil(vw * f)), max(2, math.ceil(vh * f)))
    frames = iter_video_frames(ref.path, width=size[0], height=size[1], max_frames=1)
    try:
        first = next(frames)
    finally:
        close = getattr(frames, "close", None)
        if callable(close):
            close()
    px_per_unit = min(size[0] / (2.0 * extent[0]), size[1] / (2.0 * extent[1]))
    anchor = _anchor(first, extent, px_per_unit)
    video = LoopingVideo(ref.path, size[0], size[1], float(vfps or fps), fps)
    return VideoPlate(video, look, px_per_unit, anchor)
