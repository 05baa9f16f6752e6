"""The scene: its preparation, done once per render before the first frame, and what each shot
draws per frame. `prepare_scene` decodes the references, measures a motion video's camera path,
works out every frame's camera view, has the plates made (`plates.py`) while the subjects are cut
out on a helper thread (`subjects.py`), lays the subjects out and ties plates, placements and
views into one `ShotRender` per shot. What is left per frame (`ShotRender.draw`) is a warp of the
plate and a warp and composite per subject.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import cv2
import numpy as np

from reelforge.engines.base import RenderRequest
from reelforge.engines.preview.actions import Pose, Stage, pose_at
from reelforge.engines.preview.camera import (
    SUBJECT_DEPTH,
    CameraPath,
    View,
    progress_at,
    shot_views,
    view_extent,
)
from reelforge.engines.preview.compose import Placement, composite, render_plate
from reelforge.engines.preview.cutout import Cutout, image_stats
from reelforge.engines.preview.framing import common_window
from reelforge.engines.preview.grade import apply_grade
from reelforge.engines.preview.motion import estimate_motion
from reelforge.engines.preview.plates import PlateSource, plate_keys, plate_label, plate_source
from reelforge.engines.preview.staging import layout, stage_shots
from reelforge.engines.preview.subjects import (
    check_cancel,
    cues_by_subject,
    cut_out_checked,
    sprites_for,
    subject_shape,
)
from reelforge.media.decode import load_image
from reelforge.media.probe import probe_media
from reelforge.media.types import CancelToken
from reelforge.planning.model import CameraMove, Look, Shot
from reelforge.spec import ReferenceKind

PIN_RAMP_SECONDS = 0.5  # subjects and the grade ease in after (out before) a pinned frame
PIN_RAMP_SHARE = 0.34  # ... over at most this share of the shot


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
        i: pool.submit(cut_out_checked, images[i], stats[i].is_studio, cancel) for i in subjects
    }
    sources: dict[tuple[object, ...], PlateSource] = {}
    try:
        plates: list[tuple[PlateSource, PlateSource | None]] = []
        for st in stages:
            keys = plate_keys(st, request)
            for key in keys:
                if key not in sources:
                    check_cancel(cancel)
                    sources[key] = plate_source(
                        key, request, images, stats, extent, max_zoom, window
                    )
                    request.log(f"preview: plate {plate_label(key)}")
            plates.append((sources[keys[0]], sources[keys[1]] if len(keys) > 1 else None))

        cutouts: dict[int, Cutout] = {}
        for index in subjects:
            cutouts[index] = pending[index].result()
            request.log(f"preview: @Image{index} cut out by {cutouts[index].method}")

        # How far below the frame's bottom edge the camera ever looks at subject depth.
        hide_below = max(0.0, max(v.y + height / (2.0 * v.zoom) for v in all_sub) - height / 2)
        active_h = _active_height(request)
        cues = {st.shot.index: cues_by_subject(st) for st in stages}
        spots = {
            st.shot.index: layout(
                [subject_shape(cutouts[i], cues[st.shot.index][i]) for i in st.subjects],
                width,
                active_h,
                hide_below,
            )
            for st in stages
        }
        sprites = sprites_for(stages, spots, cutouts, cues, all_sub)
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
        check_cancel(cancel)
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
        check_cancel(cancel)
        fps = ref.fps or probe_media(ref.path, count_frames=False).fps or float(request.fps)
        paths[shot.index] = estimate_motion(
            ref.path, shot.num_frames, request.fps, fps, request.width, request.height, cancel
        )
        request.log(
            f"preview: shot {shot.index + 1} follows the camera motion of @Video{ref.index}"
        )
    return paths
