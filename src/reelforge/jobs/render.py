"""Plan and render one video to files: shared by the job workflow and `reelforge generate`."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from reelforge import codes
from reelforge.core.job import Job
from reelforge.core.references import StoredReference
from reelforge.engines.base import Engine, Rendering, RenderRequest
from reelforge.errors import InvalidRequest
from reelforge.media.types import CancelToken, ProgressCallback
from reelforge.planning.continuation import continue_plan
from reelforge.planning.model import ShotPlan
from reelforge.planning.shots import choose_seconds, plan_shots
from reelforge.spec import FPS, Codec, ReferenceKind

if TYPE_CHECKING:
    from reelforge.media.spritesheet import SheetCollector


@dataclass(frozen=True)
class RenderedFiles:
    video: Path
    thumbnail: Path
    last_frame: Path
    seconds: float
    frames: int
    spritesheet: Path | None = None  # a grid of frames, kept as they streamed into the encoder


def plan_video(
    prompt: str, seconds: int | None, references: tuple[StoredReference, ...]
) -> ShotPlan:
    """The shot plan for a request. `seconds=None` (auto) is chosen from the prompt and the
    references (`choose_seconds`); cuts snap to the beats of the soundtrack, if there is one."""
    from reelforge.media.beats import soundtrack_beats
    from reelforge.planning.references import soundtrack_ref

    if seconds is None:
        seconds = choose_seconds(prompt, references)
    audio = soundtrack_ref(prompt, references)
    beats = soundtrack_beats(audio.path, seconds) if audio is not None else ()
    images = sum(1 for r in references if r.kind is ReferenceKind.IMAGE)
    plan = plan_shots(prompt, seconds * FPS, FPS, images, references=references, beats=beats)
    # Past the hosted 15 s: long shots continue in parts with the same subjects and plate.
    return continue_plan(plan)


def build_render_request(
    job: Job,
    references: tuple[StoredReference, ...],
    plan: ShotPlan,
    *,
    log: Callable[[str], None] | None = None,
) -> RenderRequest:
    """What the engine is asked to render for `job`: the one place a job becomes a request
    (the workflow and `reelforge generate` both come here)."""
    return RenderRequest(
        prompt=job.prompt,
        plan=plan,
        width=job.width,
        height=job.height,
        num_frames=plan.num_frames,
        fps=job.fps,
        seed=job.seed,
        generate_audio=job.generate_audio,
        references=references,
        preset=job.resolved.preset,
        **({"log": log} if log is not None else {}),
    )


def render_video(
    engine: Engine,
    request: RenderRequest,
    out_dir: Path,
    *,
    codec: Codec,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> RenderedFiles:
    """Render through `engine` and stream its frames into the encoder; write the MP4, a JPEG
    thumbnail, a PNG of the last frame and the spritesheet into `out_dir` (each written
    atomically). An alpha codec renders the subjects on transparency (`render_alpha`) into
    `video.mov` (prores_4444) or `video.webm` (vp9) instead."""
    from reelforge.media.encode import encode_mp4, write_jpeg, write_png
    from reelforge.media.spritesheet import SheetCollector

    engine.check_inputs(request)
    out_dir.mkdir(parents=True, exist_ok=True)
    if codec.alpha:
        return _render_alpha(engine, request, out_dir, codec, progress, cancel)
    rendering = engine.render(request, progress, cancel)
    video = out_dir / "video.mp4"
    sheet = SheetCollector(request.width, request.height, request.num_frames)
    result = encode_mp4(
        video,
        sheet.watch(rendering.frames),
        width=request.width,
        height=request.height,
        fps=request.fps,
        num_frames=request.num_frames,
        codec=codec,
        audio=rendering.audio if request.generate_audio else None,
        cancel=cancel,
    )
    thumb = out_dir / "thumbnail.jpg"
    last = out_dir / "last_frame.png"
    write_jpeg(thumb, result.thumbnail)
    write_png(last, result.last_frame)
    sprites = sheet.write(out_dir / "spritesheet.jpg").path
    return RenderedFiles(video, thumb, last, result.seconds, result.frames_written, sprites)


def _render_alpha(
    engine: Engine,
    request: RenderRequest,
    out_dir: Path,
    codec: Codec,
    progress: ProgressCallback,
    cancel: CancelToken,
) -> RenderedFiles:
    """The RGBA frames stream into ProRes 4444 or VP9; the last frame is a PNG with its alpha,
    the thumbnail and the spritesheet (JPEGs) show the subjects over a grey checkerboard."""
    from reelforge.media.alpha import encode_alpha, flatten, write_rgba_png
    from reelforge.media.encode import write_jpeg
    from reelforge.media.spritesheet import SheetCollector

    render_alpha: Callable[..., Rendering] | None = getattr(engine, "render_alpha", None)
    if render_alpha is None:  # refused at create (EngineLimits.alpha); a direct caller too
        raise InvalidRequest(
            f"engine {engine.name} cannot render alpha (the subjects on a transparent background)",
            code=codes.INVALID_REQUEST_ALPHA_UNSUPPORTED,
            param="alpha",
        )
    rendering = render_alpha(request, progress, cancel)
    video = out_dir / f"video.{codec.container}"
    sheet = SheetCollector(request.width, request.height, request.num_frames)
    stills = _AlphaStills(request.num_frames, sheet)
    encode_alpha(
        video,
        stills.watch(rendering.frames),
        width=request.width,
        height=request.height,
        num_frames=request.num_frames,
        codec="prores_4444" if codec is Codec.PRORES_4444 else "vp9",
        fps=request.fps,
        audio=rendering.audio if request.generate_audio else None,
        cancel=cancel,
    )
    assert stills.middle is not None and stills.last is not None
    thumb = write_jpeg(out_dir / "thumbnail.jpg", flatten(stills.middle))
    last = write_rgba_png(out_dir / "last_frame.png", stills.last)
    sprites = sheet.write(out_dir / "spritesheet.jpg").path
    seconds = request.num_frames / request.fps
    return RenderedFiles(video, thumb, last, seconds, request.num_frames, sprites)


@dataclass
class _AlphaStills:
    """Keeps the middle and last RGBA frames and the spritesheet's tiles (flattened at tile
    size) as the frames stream past into the encoder."""

    total: int
    sheet: SheetCollector
    middle: np.ndarray | None = None
    last: np.ndarray | None = None
    _wanted: set[int] = field(default_factory=set)

    def watch(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        import cv2

        from reelforge.media.alpha import flatten
        from reelforge.media.spritesheet import spaced_indices

        sheet = self.sheet
        wanted = set(spaced_indices(self.total, sheet.columns * sheet.rows))
        for i, rgba in enumerate(frames):
            if i in wanted:
                tile = cv2.resize(rgba, (sheet.tile_w, sheet.tile_h), interpolation=cv2.INTER_AREA)
                sheet.tiles[i] = flatten(tile)
            if i == self.total // 2:
                self.middle = rgba.copy()
            if i == self.total - 1:
                self.last = rgba.copy()
            yield rgba
