"""Scene preparation, done once per render before the first frame: decode the references,
choose plates and subjects, cut the subjects out, measure a motion video's camera path, work out
every frame's camera view, size every layer for the closest the camera gets to it, and grade it.
What is left per frame is a warp of the plate and a warp and composite per subject.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import cv2
import numpy as np

from reelforge.core.references import StoredReference
from reelforge.engines.base import RenderRequest
from reelforge.engines.preview.actions import Pose, Stage, headroom, max_scale, pose_at
from reelforge.engines.preview.backdrop import gradient_backdrop, prompt_colours, studio_colours
from reelforge.engines.preview.camera import (
    SUBJECT_DEPTH,
    CameraPath,
    View,
    progress_at,
    shot_views,
    view_extent,
)
from reelforge.engines.preview.compose import Placement, Plate, Sprite, composite, render_plate
from reelforge.engines.preview.cutout import Cutout, ImageStats, cut_out, image_stats
from reelforge.engines.preview.framing import (
    common_window,
    find_subject,
    framed_plate,
    wants_close_up,
)
from reelforge.engines.preview.grade import apply_grade
from reelforge.engines.preview.motion import estimate_motion
from reelforge.engines.preview.reframe import crop_centre
from reelforge.engines.preview.staging import ShotStage, Spot, SubjectShape, layout, stage_shots
from reelforge.engines.preview.video_plate import LoopingVideo
from reelforge.media.decode import iter_video_frames, load_image
from reelforge.media.probe import probe_media
from reelforge.media.types import CancelToken, EngineCanceled
from reelforge.planning.model import ActionCue, CameraMove, Look, Shot
from reelforge.spec import ReferenceKind

MAX_PLATE_OVERSAMPLE = 2.0  # plate pixels per output pixel at most: sharp zooms, bounded cost
VIDEO_OVERSAMPLE = 1.25
PIN_RAMP_SECONDS = 0.5  # subjects and the grade ease in after (out before) a pinned frame
PIN_RAMP_SHARE = 0.34  # ... over at most this share of the shot


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


@dataclass
class ShotRender:
    """Everything needed to draw any frame of one shot."""

    shot: Shot
    plate: PlateSource
    end_plate: PlateSource | None  # pinned at both ends to different pictures: blended in
    placements: tuple[Placement, ...]
    stages: tuple[Stage, ...]  # per placement, for its actions
    bg_views: list[View]
    sub_views: list[View]
    look: Look
    graded_layers: bool  # the layers carry the grade; else it is applied per frame
    pin_start: bool = False
    pin_end: bool = False
    ramp: int = 1

    def _pin_weight(self, f: int) -> float:
        """0 at a pinned frame, rising to 1 over `ramp` frames away from it."""
        w = 1.0
        n = self.shot.num_frames
        if self.pin_start:
            w = min(w, f / self.ramp)
        if self.pin_end:
            w = min(w, (n - 1 - f) / self.ramp)
        w = min(1.0, max(0.0, w))
        return w * w * (3.0 - 2.0 * w)

    def frame_key(self, f: int, index: int) -> tuple[object, ...]:
        """Everything a drawn frame depends on: equal keys, equal frames."""
        f = min(max(0, f), self.shot.num_frames - 1)
        return (
            self.shot.index,
            id(self.plate),  # the source object lives as long as the scene: its id is stable
            self.plate.version_at(index),
            None if self.end_plate is None else self.end_plate.version_at(index),
            self.bg_views[f],
            self.sub_views[f],
            tuple(p.key() for p in self._poses(f)),
            self._pin_weight(f),
            self._mix(f),
        )

    def _poses(self, f: int) -> list[Pose]:
        t = progress_at(f, self.shot.num_frames)
        return [pose_at(p.cues, t, st) for p, st in zip(self.placements, self.stages, strict=True)]

    def _mix(self, f: int) -> float:
        if self.end_plate is None:
            return 0.0
        t = progress_at(f, self.shot.num_frames)
        w = min(1.0, max(0.0, (t - 0.3) / 0.4))
        return w * w * (3.0 - 2.0 * w)

    def draw_subjects(self, f: int, width: int, height: int) -> np.ndarray:
        """Frame `f` of the shot with the subjects only, on a transparent background: RGBA
        uint8, straight (not premultiplied) colour, the grade applied to the subjects."""
        f = min(max(0, f), self.shot.num_frames - 1)
        frame = np.zeros((height, width, 3), np.uint8)
        coverage = np.zeros((height, width), np.uint8)
        weight = self._pin_weight(f)
        for placement, pose in zip(self.placements, self._poses(f), strict=True):
            composite(frame, placement, self.sub_views[f], pose, weight, coverage)
        if not self.graded_layers:
            frame = apply_grade(frame, self.look, weight)
        # Un-premultiply: colour = premultiplied / alpha where there is any alpha.
        a = np.maximum(coverage, 1).astype(np.float32)[:, :, None]
        straight = np.clip(frame.astype(np.float32) * 255.0 / a + 0.5, 0, 255).astype(np.uint8)
        straight[coverage == 0] = 0
        return np.dstack([straight, coverage])

    def draw(self, f: int, index: int, width: int, height: int) -> np.ndarray:
        """Frame `f` of the shot (clamped to the shot), which is output frame `index` (a video
        plate plays on by output time)."""
        f = min(max(0, f), self.shot.num_frames - 1)
        frame = render_plate(self.plate.plate_at(index), self.bg_views[f], width, height)
        mix = self._mix(f)
        if self.end_plate is not None and mix > 0.0:
            other = render_plate(self.end_plate.plate_at(index), self.bg_views[f], width, height)
            frame = other if mix >= 1.0 else cv2.addWeighted(frame, 1.0 - mix, other, mix, 0.0)
        weight = self._pin_weight(f)
        for placement, pose in zip(self.placements, self._poses(f), strict=True):
            composite(frame, placement, self.sub_views[f], pose, weight)
        if not self.graded_layers:
            frame = apply_grade(frame, self.look, weight)
        return frame


@dataclass
class Scene:
    shots: list[ShotRender]
    sources: list[PlateSource] = field(default_factory=list)

    def close(self) -> None:
        for source in self.sources:
            source.close()


def prepare_scene(request: RenderRequest, cancel: CancelToken) -> Scene:
    width, height = request.width, request.height
    plan = request.plan
    images = _load_images(request, cancel)
    stats = {i: image_stats(rgb) for i, rgb in images.items()}
    stages = stage_shots(plan, stats)
    paths = _motion_paths(request, cancel)
    views = [
        shot_views(
            st.shot,
            width,
            height,
            request.fps,
            request.seed,
            paths.get(st.shot.index),
            pin_start=st.pin_start is not None,
            pin_end=st.pin_end is not None,
        )
        for st in stages
    ]
    all_bg = [v for bg, _ in views for v in bg]
    all_sub = [v for _, sub in views for v in sub]
    extent = view_extent(all_bg, width, height)
    max_zoom = max(v.zoom for v in all_bg)
    window = common_window(all_bg, width, height)
    half_active = _active_height(request) / 2.0
    window = (window[0], max(window[1], -half_active), window[2], min(window[3], half_active))

    # The cut-outs (GrabCut, mattes; OpenCV and numpy release the GIL) run on a helper thread
    # while this one makes the plates (face detection, grading). One helper: GrabCut seeds
    # OpenCV's thread-local RNG, so each cut-out stays deterministic.
    subjects = sorted({i for st in stages for i in st.subjects})
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="preview-cutout")
    pending = {
        i: pool.submit(_cut_out_checked, images[i], stats[i].is_studio, cancel) for i in subjects
    }
    sources: dict[tuple[object, ...], PlateSource] = {}
    try:
        plates: list[tuple[PlateSource, PlateSource | None]] = []
        for st in stages:
            keys = _plate_keys(st, request)
            for key in keys:
                if key not in sources:
                    _check_cancel(cancel)
                    sources[key] = _plate_source(
                        key, request, images, stats, extent, max_zoom, window
                    )
                    request.log(f"preview: plate {_label(key)}")
            plates.append((sources[keys[0]], sources[keys[1]] if len(keys) > 1 else None))

        cutouts: dict[int, Cutout] = {}
        for index in subjects:
            cutouts[index] = pending[index].result()
            request.log(f"preview: @Image{index} cut out by {cutouts[index].method}")

        # How far below the frame's bottom edge the camera ever looks at subject depth.
        hide_below = max(0.0, max(v.y + height / (2.0 * v.zoom) for v in all_sub) - height / 2)
        active_h = _active_height(request)
        cues = {st.shot.index: _cues_by_subject(st) for st in stages}
        spots = {
            st.shot.index: layout(
                [_shape(cutouts[i], cues[st.shot.index][i]) for i in st.subjects],
                width,
                active_h,
                hide_below,
            )
            for st in stages
        }
        sprites = _sprites(stages, spots, cutouts, cues, all_sub)
        shots = []
        for st, (bg_views, sub_views), (plate, end_plate) in zip(
            stages, views, plates, strict=True
        ):
            shot = st.shot
            pinned = st.pin_start is not None or st.pin_end is not None
            look = Look.NONE if pinned else shot.look
            placements = tuple(
                Placement(
                    sprite=sprites[(i, look)],
                    centre=spot.centre,
                    world_height=spot.world_height,
                    depth=SUBJECT_DEPTH,
                    image=i,
                    cues=cues[shot.index][i],
                )
                for i, spot in zip(st.subjects, spots[shot.index], strict=True)
            )
            stage_info = tuple(
                Stage(
                    centre=p.centre,
                    world_width=p.world_width,
                    world_height=p.world_height,
                    frame_width=width,
                    frame_height=height,
                    seconds=shot.num_frames / request.fps,
                    first_view=sub_views[0],
                    last_view=sub_views[-1],
                )
                for p in placements
            )
            ramp = max(
                1, min(round(PIN_RAMP_SECONDS * request.fps), int(PIN_RAMP_SHARE * shot.num_frames))
            )
            shots.append(
                ShotRender(
                    shot=shot,
                    plate=plate,
                    end_plate=end_plate,
                    placements=placements,
                    stages=stage_info,
                    bg_views=bg_views,
                    sub_views=sub_views,
                    look=shot.look,
                    graded_layers=not pinned,
                    pin_start=st.pin_start is not None,
                    pin_end=st.pin_end is not None,
                    ramp=ramp,
                )
            )
    except BaseException:
        for future in pending.values():
            future.cancel()
        for source in sources.values():
            source.close()
        raise
    finally:
        pool.shutdown(wait=True)
    return Scene(shots=shots, sources=list(sources.values()))


def _cut_out_checked(rgb: np.ndarray, studio: bool, cancel: CancelToken) -> Cutout:
    _check_cancel(cancel)
    return cut_out(rgb, studio=studio, cancel=cancel)


def _check_cancel(cancel: CancelToken) -> None:
    if cancel.is_set():
        raise EngineCanceled("canceled while preparing the scene")


def _active_height(request: RenderRequest) -> int:
    """The picture's height inside a letterbox (the frame's height without one)."""
    aspect = request.plan.letterbox
    if aspect is None or request.width / request.height >= aspect:
        return request.height
    return round(request.width / aspect)


def _load_images(request: RenderRequest, cancel: CancelToken) -> dict[int, np.ndarray]:
    # Working copies no larger than twice the output's long side: plenty for any zoom here.
    limit = max(1024, 2 * max(request.width, request.height))
    images = {}
    for ref in sorted(request.refs(ReferenceKind.IMAGE), key=lambda r: r.index):
        _check_cancel(cancel)
        rgb = load_image(ref.path)
        images[ref.index] = _fit_within(rgb, limit)
    return images


def _fit_within(rgb: np.ndarray, limit: int) -> np.ndarray:
    h, w = rgb.shape[:2]
    if max(h, w) <= limit:
        return rgb
    s = limit / max(h, w)
    return cv2.resize(
        rgb, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA
    )


def _motion_paths(request: RenderRequest, cancel: CancelToken) -> dict[int, CameraPath]:
    """The camera path of each shot that follows a reference video's motion."""
    paths: dict[int, CameraPath] = {}
    videos = {r.index: r for r in request.refs(ReferenceKind.VIDEO)}
    for shot in request.plan.shots:
        if shot.camera is not CameraMove.FROM_VIDEO or shot.motion_video not in videos:
            continue
        ref = videos[shot.motion_video]
        _check_cancel(cancel)
        fps = ref.fps or probe_media(ref.path, count_frames=False).fps or float(request.fps)
        paths[shot.index] = estimate_motion(
            ref.path, shot.num_frames, request.fps, fps, request.width, request.height, cancel
        )
        request.log(
            f"preview: shot {shot.index + 1} follows the camera motion of @Video{ref.index}"
        )
    return paths


def _plate_keys(stage: ShotStage, request: RenderRequest) -> list[tuple[object, ...]]:
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


def _label(key: tuple[object, ...]) -> str:
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


def _plate_source(
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


def _shape(cutout: Cutout, cues: tuple[ActionCue, ...]) -> SubjectShape:
    h, w = cutout.alpha.shape
    return SubjectShape(
        aspect=w / h,
        touches_bottom=cutout.touches_bottom,
        is_card=cutout.method == "card",
        headroom=headroom(cues),
    )


def _cues_by_subject(stage: ShotStage) -> dict[int, tuple[ActionCue, ...]]:
    """Each subject's actions in the shot: its own and those addressed to every subject."""
    out = {}
    for i in stage.subjects:
        out[i] = tuple(c for c in stage.shot.actions if c.image is None or c.image == i)
    return out


def _sprites(
    stages: list[ShotStage],
    spots: dict[int, list[Spot]],
    cutouts: dict[int, Cutout],
    cues: dict[int, dict[int, tuple[ActionCue, ...]]],
    sub_views: list[View],
) -> dict[tuple[int, Look], Sprite]:
    """One sprite per subject and look, as tall (in pixels) as the largest it appears on
    screen; shots pinned to a given frame use the ungraded one (they grade per frame)."""
    max_zoom = max(v.zoom for v in sub_views)
    tallest: dict[int, float] = {}
    looks: dict[int, set[Look]] = {}
    for st in stages:
        pinned = st.pin_start is not None or st.pin_end is not None
        for i, spot in zip(st.subjects, spots[st.shot.index], strict=True):
            grow = max_scale(cues[st.shot.index][i])
            tallest[i] = max(tallest.get(i, 0.0), spot.world_height * grow)
            looks.setdefault(i, set()).add(Look.NONE if pinned else st.shot.look)
    sprites = {}
    for i, cut in cutouts.items():
        h, w = cut.alpha.shape
        target_h = min(h, max(8, math.ceil(tallest[i] * max_zoom)))
        rgb, alpha = cut.rgb, cut.alpha
        if target_h < h:
            size = (max(1, round(w * target_h / h)), target_h)
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
        for look in sorted(looks.get(i, {Look.NONE})):
            sprites[(i, look)] = Sprite.from_cutout(apply_grade(rgb, look), alpha)
    return sprites
