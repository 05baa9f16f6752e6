"""Plan and render one video to files: shared by the job workflow and `reelforge generate`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from reelforge.core.job import Job
from reelforge.engines.base import DecodedReference, Engine, RenderRequest
from reelforge.media.types import CancelToken, ProgressCallback
from reelforge.planning.model import ShotPlan
from reelforge.planning.shots import choose_seconds, plan_shots
from reelforge.spec import FPS, Codec, ReferenceKind


@dataclass(frozen=True)
class RenderedFiles:
    video: Path
    thumbnail: Path
    last_frame: Path
    seconds: float
    frames: int
    spritesheet: Path | None = None  # a grid of frames, kept as they streamed into the encoder


def plan_video(
    prompt: str, seconds: int | None, references: tuple[DecodedReference, ...]
) -> ShotPlan:
    """The shot plan for a request. `seconds=None` (auto) is chosen from the prompt and the
    references (`choose_seconds`); cuts snap to the beats of the soundtrack, if there is one."""
    from reelforge.media.beats import soundtrack_beats
    from reelforge.planning.references import soundtrack_ref

    if seconds is None:
        seconds = choose_seconds(prompt, references)
    audio = soundtrack_ref(prompt, references)
    beats = soundtrack_beats(audio.path, seconds) if isinstance(audio, DecodedReference) else ()
    images = sum(1 for r in references if r.kind is ReferenceKind.IMAGE)
    return plan_shots(prompt, seconds * FPS, FPS, images, references=references, beats=beats)


def build_render_request(
    job: Job,
    references: tuple[DecodedReference, ...],
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
    atomically)."""
    from reelforge.media.encode import encode_mp4, write_jpeg, write_png
    from reelforge.media.spritesheet import SheetCollector

    engine.check_inputs(request)
    out_dir.mkdir(parents=True, exist_ok=True)
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
