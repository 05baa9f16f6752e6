"""The quality report of an encoded video against its request's plan.

`quality_report(video_path, plan, references, ...)` is the one entry point; it decodes the file
once (`frames.measure_frames`) and the soundtrack once, and returns a `QualityReport` whose
`to_dict()` is JSON-able. Each check has a pass/fail verdict, the measured value and what was
expected:

- `container.duration`: the video stream's duration, within one frame (+ one AAC frame) of
  the plan's; `container.fps`: equal to the plan's; `container.size` and `container.codec`:
  equal to the asked ones (when given);
- `audio.present`: an audio stream when audio was asked, none when not; `audio.loudness`:
  BS.1770 integrated loudness within `LOUDNESS_TOLERANCE` LU of the target; `audio.peak`: the
  4x oversampled true peak at or under `PEAK_LIMIT_DBTP` (no clipping);
- `camera.shot<N>`: the shot's content motion by optical flow (x, y travel in frame shares,
  log zoom) agrees with the planned move (direction, over a threshold; static: no move);
- `presence.shot<N>.Image<M>`: the reference image found in the shot's middle frame (ORB
  matches consistent with one similarity transform, at least `MIN_INLIERS`);
- `cuts`: hard cuts found by frame difference: every planned hard cut within one frame, none
  outside the planned joins;
- `flicker`: mean absolute 2nd difference of the mean luma inside shots, under
  `FLICKER_LIMIT`; `smoothness`: frame-difference judder inside shots, under `JUDDER_LIMIT`.

Thresholds were set on the preview engine's own renders and on deliberately broken clips
(`tests/quality/`); they are relative to our renders, not VBench-comparable scores.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np

from reelforge.media.decode import load_audio, load_image
from reelforge.media.loudness import TARGET_LUFS, integrated_loudness, to_db, true_peak
from reelforge.media.probe import probe_media
from reelforge.planning.camera import camera_steps
from reelforge.planning.model import CameraMove, ShotPlan, Transition
from reelforge.quality.frames import FrameMeasures, measure_frames
from reelforge.spec import ReferenceKind

LOUDNESS_TOLERANCE = 2.0  # LU around the target
PEAK_LIMIT_DBTP = -0.5  # AAC overshoots a -1 dBTP master a little; 0 dBTP would be clipping
MOVE_THRESHOLD = 0.012  # share of the frame a shot's content must travel to count as a move
ZOOM_THRESHOLD = 0.02  # log scale change that counts as a zoom
CUT_MIN_DIFF = 12.0  # grey levels: a frame difference under this is never a cut
CUT_RATIO = 4.0  # ... and it must stand this far above the local median
FLICKER_LIMIT = 1.0
JUDDER_LIMIT = 0.6
MIN_INLIERS = 10
ORB_FEATURES = 1000
MIN_REFERENCE_KEYPOINTS = 200  # a flatter reference cannot be told by features: not judged

# The content motion each planned move shows: (axis, sign) with axis "x", "y" or "zoom".
# Pan left = the camera turns left, content slides right (+x); tilt/crane up = content slides
# down (+y); orbit left = the background slides left (-x) (engines/preview/camera.py).
EXPECTED_MOTION: dict[CameraMove, tuple[str, int] | None] = {
    CameraMove.STATIC: None,
    CameraMove.PAN_LEFT: ("x", 1),
    CameraMove.PAN_RIGHT: ("x", -1),
    CameraMove.TILT_UP: ("y", 1),
    CameraMove.TILT_DOWN: ("y", -1),
    CameraMove.CRANE_UP: ("y", 1),
    CameraMove.CRANE_DOWN: ("y", -1),
    CameraMove.ORBIT_LEFT: ("x", -1),
    CameraMove.ORBIT_RIGHT: ("x", 1),
    CameraMove.ZOOM_IN: ("zoom", 1),
    CameraMove.DOLLY_IN: ("zoom", 1),
    CameraMove.ZOOM_OUT: ("zoom", -1),
    CameraMove.DOLLY_OUT: ("zoom", -1),
}


class ReferenceFile(Protocol):
    """A reference as the report needs it (`core.references.StoredReference` is one)."""

    @property
    def kind(self) -> ReferenceKind: ...
    @property
    def index(self) -> int: ...
    @property
    def path(self) -> Path: ...


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool | None  # None: not judged (nothing to compare against)
    measured: Any
    expected: Any
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "verdict": "n/a" if self.passed is None else ("pass" if self.passed else "fail"),
            "measured": self.measured,
            "expected": self.expected,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class QualityReport:
    measured: dict[str, Any]
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def passed(self) -> bool:
        return all(c.passed is not False for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if c.passed is False]

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": "pass" if self.passed else "fail",
            "failed": self.failed,
            "measured": self.measured,
            "checks": [c.to_dict() for c in self.checks],
        }


def quality_report(
    video_path: Path | str,
    plan: ShotPlan,
    references: Sequence[ReferenceFile] = (),
    *,
    width: int | None = None,
    height: int | None = None,
    codec: str | None = None,
    generate_audio: bool | None = None,
    target_lufs: float = TARGET_LUFS,
) -> QualityReport:
    """Measure the encoded file at `video_path` and judge it against `plan` (and the asked
    size, codec and audio, when given). `references` are the request's references on disk;
    the images among them are looked for in the shots that mention them."""
    path = Path(video_path)
    info = probe_media(path)
    checks: list[Check] = []
    measured: dict[str, Any] = {
        "duration": _r(info.video_duration or info.duration),
        "size_bytes": path.stat().st_size,
        "width": info.width,
        "height": info.height,
        "fps": _r(info.fps),
        "frames": info.frame_count,
        "video_codec": info.video_codec,
        "audio_codec": info.audio_codec,
    }
    checks.extend(_container_checks(info, plan, width, height, codec))
    checks.extend(_audio_checks(path, info.has_audio, generate_audio, target_lufs, measured))

    images = {r.index: r for r in references if r.kind is ReferenceKind.IMAGE}
    # an alpha video (prores_4444, vp9) shows the subjects alone: its plate is not looked for
    wanted = _presence_plan(plan, images, plates=(codec or "") not in ("prores_4444", "vp9"))
    samples = {_middle(plan, k) for k in wanted}
    frames = measure_frames(path, samples)
    measured["analysed_frames"] = frames.count
    cuts = detect_cuts(frames)
    measured["cuts"] = cuts
    checks.append(_cut_check(plan, cuts))
    checks.extend(_camera_checks(plan, frames, cuts, measured))
    checks.extend(_temporal_checks(plan, frames, cuts, measured))
    checks.extend(_presence_checks(plan, frames, images, wanted, measured))
    return QualityReport(measured=measured, checks=tuple(checks))


def _r(v: float | None, nd: int = 3) -> float | None:
    return None if v is None else round(float(v), nd)


# --- container and audio ---------------------------------------------------------------------


def _container_checks(
    info: Any, plan: ShotPlan, width: int | None, height: int | None, codec: str | None
) -> list[Check]:
    out = []
    duration = info.video_duration or info.duration or 0.0
    slack = 1.0 / plan.fps + 1024 / 48_000
    out.append(
        Check(
            "container.duration",
            abs(duration - plan.seconds) <= slack,
            _r(duration),
            _r(plan.seconds),
            f"within {slack:.3f} s",
        )
    )
    fps = info.fps or 0.0
    out.append(Check("container.fps", abs(fps - plan.fps) < 0.01, _r(fps), plan.fps))
    if width is not None and height is not None:
        size = f"{info.width}x{info.height}"
        out.append(Check("container.size", size == f"{width}x{height}", size, f"{width}x{height}"))
    if codec is not None:
        names = {"h264": {"h264"}, "h265": {"hevc", "h265"}, "hevc": {"hevc", "h265"},
                 "prores_4444": {"prores"}}  # fmt: skip
        ok = info.video_codec in names.get(codec.lower(), {codec.lower()})
        out.append(Check("container.codec", ok, info.video_codec, codec))
    return out


def _audio_checks(
    path: Path,
    has_audio: bool,
    asked: bool | None,
    target: float,
    measured: dict[str, Any],
) -> list[Check]:
    out = []
    if asked is not None:
        out.append(Check("audio.present", has_audio == asked, has_audio, asked))
    if not has_audio:
        measured["loudness_lufs"] = None
        measured["true_peak_dbtp"] = None
        return out
    track = load_audio(path)
    loud = integrated_loudness(track)
    peak = to_db(true_peak(track.samples))
    measured["loudness_lufs"] = _r(loud, 2) if math.isfinite(loud) else None
    measured["true_peak_dbtp"] = _r(peak, 2) if math.isfinite(peak) else None
    out.append(
        Check(
            "audio.loudness",
            math.isfinite(loud) and abs(loud - target) <= LOUDNESS_TOLERANCE,
            measured["loudness_lufs"],
            target,
            f"LUFS integrated, +-{LOUDNESS_TOLERANCE} LU",
        )
    )
    out.append(
        Check(
            "audio.peak",
            not math.isfinite(peak) or peak <= PEAK_LIMIT_DBTP,
            measured["true_peak_dbtp"],
            PEAK_LIMIT_DBTP,
            "dBTP, at most",
        )
    )
    return out


# --- cuts and temporal measures -------------------------------------------------------------


def detect_cuts(frames: FrameMeasures) -> list[int]:
    """Frames that start a new picture: a frame difference over `CUT_MIN_DIFF` grey levels and
    `CUT_RATIO` times the median of its neighbours (6 either side)."""
    d = np.asarray(frames.diff, np.float64)
    cuts = []
    for i in range(1, d.size):
        lo, hi = max(1, i - 6), min(d.size, i + 7)
        around = np.concatenate([d[lo:i], d[i + 1 : hi]])
        local = float(np.median(around)) if around.size else 0.0
        if d[i] > CUT_MIN_DIFF and d[i] > CUT_RATIO * max(local, 1.0):
            cuts.append(i)
    return cuts


def _join_windows(plan: ShotPlan) -> list[tuple[int, int, Transition]]:
    """(first, last) output frames around each join where its transition may change the
    picture fast, with the transition."""
    out = []
    for shot in plan.shots[1:]:
        at = shot.start_frame
        half = {
            Transition.CUT: 1,
            Transition.CROSSFADE: round(0.3 * plan.fps),
            Transition.WHIP_PAN: round(0.3 * plan.fps),
            Transition.FADE_BLACK: round(0.45 * plan.fps),
        }[shot.transition]
        out.append((at - half, at + half, shot.transition))
    return out


def _cut_check(plan: ShotPlan, cuts: list[int]) -> Check:
    planned = [s.start_frame for s in plan.shots[1:] if s.transition is Transition.CUT]
    missing = [p for p in planned if not any(abs(c - p) <= 1 for c in cuts)]
    windows = _join_windows(plan)
    unplanned = [c for c in cuts if not any(a <= c <= b for a, b, _ in windows)]
    if plan.fade_in:
        unplanned = [c for c in unplanned if c > round(0.6 * plan.fps)]
    if plan.fade_out:
        unplanned = [c for c in unplanned if c < plan.num_frames - round(0.6 * plan.fps)]
    detail = ""
    if missing:
        detail += f"planned cuts not found at {missing}; "
    if unplanned:
        detail += f"cuts nobody planned at {unplanned}"
    return Check("cuts", not missing and not unplanned, cuts, planned, detail.strip("; "))


def _interior(plan: ShotPlan, frames: FrameMeasures, cuts: list[int]) -> list[list[int]]:
    """Per shot: the frame indices i whose step (i-1 -> i) lies inside the shot, away from any
    join window, clip fades and detected cuts."""
    windows = _join_windows(plan)
    fade = round(0.6 * plan.fps)
    out = []
    for shot in plan.shots:
        idx = []
        for i in range(shot.start_frame + 2, shot.start_frame + shot.num_frames - 1):
            if i >= frames.count or any(a - 1 <= i <= b + 1 for a, b, _ in windows):
                continue
            if any(abs(i - c) <= 1 for c in cuts):
                continue
            if (plan.fade_in and i < fade) or (plan.fade_out and i > plan.num_frames - fade):
                continue
            idx.append(i)
        out.append(idx)
    return out


def _camera_checks(
    plan: ShotPlan, frames: FrameMeasures, cuts: list[int], measured: dict[str, Any]
) -> list[Check]:
    """One check per camera move: a shot's single move, or each of the moves a shot plays in
    sequence (`camera.shot1.move2`), judged on the frames of that move."""
    out = []
    per_shot = []
    for shot, idx in zip(plan.shots, _interior(plan, frames, cuts), strict=True):
        steps = camera_steps(shot)
        entries = []
        for k, (move, _speed, first, count) in enumerate(steps, start=1):
            begin = shot.start_frame + first
            own = [i for i in idx if begin + (1 if k > 1 else 0) <= i < begin + count]
            name = f"camera.shot{shot.index + 1}" + (f".move{k}" if len(steps) > 1 else "")
            check, entry = _move_check(name, move, own, frames)
            out.append(check)
            entries.append(entry)
        first_entry = {"shot": shot.index + 1, **entries[0]}
        if len(entries) > 1:
            first_entry["moves"] = entries
        per_shot.append(first_entry)
    measured["camera"] = per_shot
    return out


def _move_check(
    name: str, move: CameraMove, idx: list[int], frames: FrameMeasures
) -> tuple[Check, dict[str, Any]]:
    x = float(sum(frames.dx[i] for i in idx))
    y = float(sum(frames.dy[i] for i in idx))
    z = float(sum(frames.dzoom[i] for i in idx))
    motion = {"x": round(x, 4), "y": round(y, 4), "zoom": round(z, 4)}
    seen = observed_move(x, y, z)
    entry = {"planned": move.value, **motion, "observed": seen}
    if move not in EXPECTED_MOTION or not idx:
        return Check(name, None, motion, move.value, "not judged"), entry
    expected = EXPECTED_MOTION[move]
    if expected is None:
        ok = seen == "static"
    else:
        axis, sign = expected
        value = {"x": x, "y": y, "zoom": z}[axis]
        limit = ZOOM_THRESHOLD if axis == "zoom" else MOVE_THRESHOLD
        ok = value * sign > limit
    return Check(name, ok, motion, move.value, f"observed {seen}"), entry


def observed_move(x: float, y: float, z: float) -> str:
    """The move a shot's measured content motion looks like, in the plan's words."""
    options = [
        (abs(x) / MOVE_THRESHOLD, "pan_left" if x > 0 else "pan_right"),
        (abs(y) / MOVE_THRESHOLD, "tilt_up" if y > 0 else "tilt_down"),
        (abs(z) / ZOOM_THRESHOLD, "zoom_in" if z > 0 else "zoom_out"),
    ]
    strength, name = max(options)
    return name if strength > 1.0 else "static"


def _temporal_checks(
    plan: ShotPlan, frames: FrameMeasures, cuts: list[int], measured: dict[str, Any]
) -> list[Check]:
    luma = np.asarray(frames.luma)
    diff = np.asarray(frames.diff)
    flicker_vals: list[float] = []
    judder_vals: list[float] = []
    for idx in _interior(plan, frames, cuts):
        inner = [i for i in idx if i + 1 < frames.count and (i + 1) in idx]
        if inner:
            second = [abs(luma[i + 1] - 2 * luma[i] + luma[i - 1]) for i in inner]
            flicker_vals.append(float(np.mean(second)))
        if len(idx) >= 3:
            d = diff[idx]
            judder_vals.append(float(np.mean(np.abs(np.diff(d))) / (float(np.mean(d)) + 1.0)))
    flicker = max(flicker_vals) if flicker_vals else 0.0
    judder = max(judder_vals) if judder_vals else 0.0
    measured["flicker"] = round(flicker, 3)
    measured["judder"] = round(judder, 3)
    return [
        Check(
            "flicker",
            flicker < FLICKER_LIMIT,
            round(flicker, 3),
            FLICKER_LIMIT,
            "grey levels, worst shot, under",
        ),
        Check(
            "smoothness",
            judder < JUDDER_LIMIT,
            round(judder, 3),
            JUDDER_LIMIT,
            "frame-difference judder, worst shot, under",
        ),
    ]


# --- references ------------------------------------------------------------------------------


def _middle(plan: ShotPlan, shot: int) -> int:
    s = plan.shots[shot]
    return s.start_frame + s.num_frames // 2


def _presence_plan(
    plan: ShotPlan, images: dict[int, ReferenceFile], plates: bool = True
) -> dict[int, list[int]]:
    """Per shot index: the @ImageN it should show (those its text mentions; a lone image in
    every shot; the first/last frame image in the first/last shot; not the plate if `plates`
    is false)."""
    out: dict[int, list[int]] = {}
    for k, shot in enumerate(plan.shots):
        want = [i for i in shot.image_indices if i in images]
        if not plates:
            want = [i for i in want if i != shot.background_image]
        if plates and shot.background_image in images and shot.background_image not in want:
            want.append(shot.background_image)
        if not want and len(images) == 1:
            want = list(images)
        if k == 0 and plan.first_frame in images and plan.first_frame not in want:
            want.append(plan.first_frame)
        if k == len(plan.shots) - 1 and plan.last_frame in images and plan.last_frame not in want:
            want.append(plan.last_frame)
        if want:
            out[k] = want
    return out


def _presence_checks(
    plan: ShotPlan,
    frames: FrameMeasures,
    images: dict[int, ReferenceFile],
    wanted: dict[int, list[int]],
    measured: dict[str, Any],
) -> list[Check]:
    orb = cv2.ORB_create(ORB_FEATURES)  # type: ignore[attr-defined]
    matcher = cv2.BFMatcher(cv2.NORM_HAMMING)
    ref_features: dict[int, tuple[Any, Any]] = {}
    out = []
    found: list[dict[str, Any]] = []
    for k, indices in sorted(wanted.items()):
        frame = frames.samples.get(_middle(plan, k))
        if frame is None:
            continue
        kf, df = orb.detectAndCompute(frame, None)
        for i in indices:
            if i not in ref_features:
                grey = cv2.cvtColor(load_image(images[i].path), cv2.COLOR_RGB2GRAY)
                s = 480 / max(grey.shape)
                if s < 1.0:
                    grey = cv2.resize(grey, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
                ref_features[i] = orb.detectAndCompute(grey, None)
            kr, dr = ref_features[i]
            inliers = _inliers(matcher, kr, dr, kf, df)
            name = f"presence.shot{k + 1}.Image{i}"
            found.append({"shot": k + 1, "reference": f"Image{i}", "inliers": inliers})
            if len(kr) < MIN_REFERENCE_KEYPOINTS:
                detail = f"the reference has {len(kr)} ORB keypoints: too flat to match"
                out.append(Check(name, None, inliers, MIN_INLIERS, detail))
                continue
            out.append(Check(name, inliers >= MIN_INLIERS, inliers, MIN_INLIERS, "ORB inliers"))
    measured["presence"] = found
    return out


def _inliers(matcher: Any, kr: Any, dr: Any, kf: Any, df: Any) -> int:
    """Matches (ratio test 0.75) consistent with one similarity transform (RANSAC)."""
    if dr is None or df is None or len(kr) < 4 or len(kf) < 4:
        return 0
    good = []
    for pair in matcher.knnMatch(dr, df, k=2):
        if len(pair) == 2 and pair[0].distance < 0.75 * pair[1].distance:
            good.append(pair[0])
    if len(good) < 4:
        return 0
    src = np.array([kr[m.queryIdx].pt for m in good], np.float32)
    dst = np.array([kf[m.trainIdx].pt for m in good], np.float32)
    _, mask = cv2.estimateAffinePartial2D(src, dst, method=cv2.RANSAC, ransacReprojThreshold=4.0)
    return 0 if mask is None else int(mask.sum())
