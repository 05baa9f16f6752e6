"""Scene preparation, done once per render before the first frame: decode the references,
choose plates and subjects, cut the subjects out, size every layer for the closest the camera
gets to it, and grade it. What is left per frame is two warps and a composite per layer."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from reelforge.engines.base import CancelToken, DecodedReference, EngineCanceled, RenderRequest
from reelforge.engines.preview.backdrop import gradient_backdrop, prompt_colours, studio_colours
from reelforge.engines.preview.camera import (
    BACKGROUND_DEPTH,
    SUBJECT_DEPTH,
    View,
    progress_at,
    view_at,
    view_extent,
)
from reelforge.engines.preview.compose import Placement, Plate, Sprite
from reelforge.engines.preview.cutout import Cutout, ImageStats, cut_out, image_stats
from reelforge.engines.preview.grade import Grade, apply_grade, grade_for
from reelforge.engines.preview.staging import (
    ShotStage,
    Spot,
    SubjectShape,
    layout,
    stage_shots,
)
from reelforge.engines.preview.video_plate import LoopingVideo
from reelforge.media.decode import load_image
from reelforge.media.probe import probe_media
from reelforge.planning.shots import Shot
from reelforge.spec import ReferenceKind

MAX_PLATE_OVERSAMPLE = 2.0  # plate pixels per output pixel at most: sharp zooms, bounded cost
VIDEO_OVERSAMPLE = 1.25


class VideoPlate:
    """A looping reference video as a plate: `plate_at(i)` is the plate of output frame i."""

    def __init__(self, video: LoopingVideo, grade: Grade, extent: tuple[float, float]) -> None:
        self._video = video
        self._grade = grade
        self._extent = extent

    def plate_at(self, index: int) -> Plate:
        image = apply_grade(self._video.frame_at(index), self._grade)
        h, w = image.shape[:2]
        k = min(w / (2.0 * self._extent[0]), h / (2.0 * self._extent[1]))
        return Plate(image=image, px_per_unit=k)

    def close(self) -> None:
        self._video.close()


class StillPlate:
    def __init__(self, plate: Plate) -> None:
        self._plate = plate

    def plate_at(self, index: int) -> Plate:
        return self._plate

    def close(self) -> None:
        pass


PlateSource = StillPlate | VideoPlate


@dataclass(frozen=True)
class ShotLayers:
    shot: Shot
    plate: PlateSource
    placements: tuple[Placement, ...]


@dataclass
class Scene:
    shots: list[ShotLayers]
    sources: list[PlateSource] = field(default_factory=list)

    def close(self) -> None:
        for source in self.sources:
            source.close()


def prepare_scene(request: RenderRequest, cancel: CancelToken) -> Scene:
    width, height = request.width, request.height
    grade = grade_for(request.prompt)
    images = _load_images(request, cancel)
    stats = {i: image_stats(rgb) for i, rgb in images.items()}
    stages = stage_shots(request.plan, stats)
    bg_views = _views(request, BACKGROUND_DEPTH)
    sub_views = _views(request, SUBJECT_DEPTH)
    extent = view_extent(bg_views, width, height)
    max_zoom = max(v.zoom for v in bg_views)

    sources: dict[str, PlateSource] = {}
    try:
        for stage in stages:
            key = _plate_key(stage, request)
            if key not in sources:
                _check_cancel(cancel)
                sources[key] = _plate_source(key, request, images, stats, grade, extent, max_zoom)
                request.log(f"preview: plate {key}")

        cutouts: dict[int, Cutout] = {}
        for index in sorted({i for st in stages for i in st.subjects}):
            _check_cancel(cancel)
            cutouts[index] = cut_out(images[index], studio=stats[index].is_studio)
            request.log(f"preview: @Image{index} cut out by {cutouts[index].method}")

        # How far below the frame's bottom edge the camera ever looks at subject depth.
        hide_below = max(0.0, max(v.y + height / (2.0 * v.zoom) for v in sub_views) - height / 2)
        spots = {
            st.shot.index: layout(
                [_shape(cutouts[i]) for i in st.subjects], width, height, hide_below
            )
            for st in stages
        }
        sprites = _sprites(stages, spots, cutouts, sub_views, grade)
        shots = []
        for st in stages:
            placements = tuple(
                Placement(
                    sprite=sprites[i],
                    centre=spot.centre,
                    world_height=spot.world_height,
                    depth=SUBJECT_DEPTH,
                )
                for i, spot in zip(st.subjects, spots[st.shot.index], strict=True)
            )
            shots.append(ShotLayers(st.shot, sources[_plate_key(st, request)], placements))
    except BaseException:
        for source in sources.values():
            source.close()
        raise
    return Scene(shots=shots, sources=list(sources.values()))


def _check_cancel(cancel: CancelToken) -> None:
    if cancel.is_set():
        raise EngineCanceled("canceled while preparing the scene")


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


def _views(request: RenderRequest, depth: float) -> list[View]:
    return [
        view_at(
            shot.camera,
            shot.speed,
            progress_at(f, shot.num_frames),
            depth,
            request.width,
            request.height,
        )
        for shot in request.plan.shots
        for f in range(shot.num_frames)
    ]


def _plate_key(stage: ShotStage, request: RenderRequest) -> str:
    if stage.background is not None:
        return f"image:{stage.background}"
    videos = _videos(request)
    if videos:
        return f"video:{videos[0].index}"
    return "backdrop"


def _videos(request: RenderRequest) -> list[DecodedReference]:
    return sorted(request.refs(ReferenceKind.VIDEO), key=lambda r: r.index)


def _plate_source(
    key: str,
    request: RenderRequest,
    images: dict[int, np.ndarray],
    stats: dict[int, ImageStats],
    grade: Grade,
    extent: tuple[float, float],
    max_zoom: float,
) -> PlateSource:
    kind, _, ident = key.partition(":")
    if kind == "image":
        plate = _still_plate(images[int(ident)], extent, max_zoom)
        return StillPlate(Plate(apply_grade(plate.image, grade), plate.px_per_unit))
    if kind == "video":
        ref = next(r for r in _videos(request) if r.index == int(ident))
        return _video_plate(ref, request.fps, grade, extent, max_zoom)
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
    return StillPlate(Plate(apply_grade(image, grade), 1.0))


def _still_plate(rgb: np.ndarray, extent: tuple[float, float], max_zoom: float) -> Plate:
    """The picture scaled so it covers everything the camera sees, with at most
    `MAX_PLATE_OVERSAMPLE` (or the deepest zoom) pixels per output pixel."""
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
    return Plate(image=rgb, px_per_unit=k)


def _video_plate(
    ref: DecodedReference, fps: int, grade: Grade, extent: tuple[float, float], max_zoom: float
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
    video = LoopingVideo(ref.path, size[0], size[1], float(vfps or fps), fps)
    return VideoPlate(video, grade, extent)


def _shape(cutout: Cutout) -> SubjectShape:
    h, w = cutout.alpha.shape
    return SubjectShape(
        aspect=w / h, touches_bottom=cutout.touches_bottom, is_card=cutout.method == "card"
    )


def _sprites(
    stages: list[ShotStage],
    spots: dict[int, list[Spot]],
    cutouts: dict[int, Cutout],
    sub_views: list[View],
    grade: Grade,
) -> dict[int, Sprite]:
    """One sprite per subject, as tall (in pixels) as the largest it appears on screen."""
    max_zoom = max(v.zoom for v in sub_views)
    tallest: dict[int, float] = {}
    for st in stages:
        for i, spot in zip(st.subjects, spots[st.shot.index], strict=True):
            tallest[i] = max(tallest.get(i, 0.0), spot.world_height)
    sprites = {}
    for i, cut in cutouts.items():
        h, w = cut.alpha.shape
        target_h = min(h, max(8, math.ceil(tallest[i] * max_zoom)))
        rgb, alpha = cut.rgb, cut.alpha
        if target_h < h:
            size = (max(1, round(w * target_h / h)), target_h)
            rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
            alpha = cv2.resize(alpha, size, interpolation=cv2.INTER_AREA)
        sprites[i] = Sprite.from_cutout(apply_grade(rgb, grade), alpha)
    return sprites
