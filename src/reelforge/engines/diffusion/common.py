"""What the three diffusion engines share: presets, progress and cancel per denoising step, the
chunk plan of a request, reference helpers and the lazy, kept-warm pipeline.

An engine is built by the registry from settings (cheap: nothing is imported or loaded), checks
its weights with `check_ready()`, loads its pipeline on the first job under a lock and keeps it
for the life of the process (one model per worker process).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from reelforge import codes
from reelforge.core.references import StoredReference
from reelforge.engines.base import Rendering, RenderRequest
from reelforge.engines.diffusion.fit import fit_frame, retime_indices
from reelforge.engines.diffusion.loading import (
    DiffusionOptions,
    EngineUnavailable,
    check_source,
    diffusion_extra_missing,
)
from reelforge.engines.diffusion.presets import Preset, resolve_preset_name
from reelforge.errors import InvalidReference
from reelforge.media.types import AudioTrack, CancelToken, EngineCanceled, ProgressCallback
from reelforge.planning.mentions import iter_mentions
from reelforge.spec import ReferenceKind, ReferenceRole

# --- presets ------------------------------------------------------------------------------------


def request_preset(request: RenderRequest) -> str:
    """The preset the job resolved to ("fast", "pro" or "default")."""
    return request.preset or "default"


def pick_preset(
    presets: dict[str, Preset], name: str, options: DiffusionOptions, engine: str = ""
) -> Preset:
    """The engine preset a request's preset runs (`engine_presets` maps request presets onto
    any preset of the engine's table; "default" = "pro"), with the operator's overrides from
    settings."""
    if engine:
        name = resolve_preset_name(engine, name, options.presets)
    base = presets.get(name) or presets["pro"]
    return replace(
        base,
        steps=options.steps or base.steps,
        guidance_scale=(
            options.guidance_scale if options.guidance_scale is not None else base.guidance_scale
        ),
        max_short_edge=options.max_short_edge or base.max_short_edge,
        sigmas=None if options.steps else base.sigmas,
    )


# --- progress and cancel ------------------------------------------------------------------------


class StepTracker:
    """Counts denoising steps across every pipeline call of one render.

    Reports `done / total` (monotonic, at most `share`; the rest is decoding and fitting) and
    checks the cancel token after every step. For a `DiffusionPipeline` use `callback`: it sets the
    pipeline's interrupt flag and raises, so neither the remaining steps nor the VAE decode run.
    """

    def __init__(
        self, progress: ProgressCallback, cancel: CancelToken, total_steps: int, share: float = 0.95
    ) -> None:
        self._progress = progress
        self._cancel = cancel
        self._total = max(1, total_steps)
        self._share = share
        self._done = 0
        self._last = 0.0

    @property
    def steps_done(self) -> int:
        return self._done

    def check(self) -> None:
        if self._cancel.is_set():
            raise EngineCanceled()

    def step(self) -> None:
        self._done += 1
        self.report(self._share * min(1.0, self._done / self._total))
        self.check()

    def report(self, fraction: float) -> None:
        if fraction > self._last:
            self._last = fraction
            self._progress(fraction)

    def callback(
        self, pipe: Any, step: int, timestep: Any, kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        """`callback_on_step_end` for diffusers pipelines."""
        try:
            self.step()
        except EngineCanceled:
            pipe._interrupt = True  # the pipeline's own stop flag, for any step still queued
            raise
        return {}


# --- the chunk plan of a request ----------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """One pipeline call: `num_frames` output frames (24 fps) of shot `shot`; `continues` means
    it extends the previous segment of the same shot (conditioned on its last frames)."""

    shot: int
    prompt: str
    num_frames: int
    continues: bool
    image_indices: tuple[int, ...]


def shot_prompt(request: RenderRequest, shot_index: int) -> str:
    """The text for one shot: the whole prompt for a single-shot plan; for several shots the
    shot's own text, after the context that precedes the first shot marker."""
    shots = request.plan.shots
    if len(shots) <= 1:
        return request.prompt
    first = shots[0].prompt
    at = request.prompt.find(first)
    context = _TRAILING_MARK.sub("", request.prompt[:at]).strip() if at > 0 else ""
    text = shots[shot_index].prompt
    return f"{context} {text}" if context else text


_TRAILING_MARK = re.compile(
    r"(?:\[?\bshot\s*#?\s*\d+\s*[:.)\]\-\u2013\u2014]?\]?|\bcut\s+to\b\s*[:,\-]?)\s*$",
    re.IGNORECASE,
)


def plan_segments(
    request: RenderRequest,
    first_window: int,
    next_window: int,
    *,
    per_shot: bool,
    split: Callable[[int, int, int], list[int]],
) -> list[Segment]:
    """Segments of a request. `per_shot`: every shot of the plan is its own call (a hard cut);
    otherwise the whole clip is one shot for the model (it reads the shot grammar itself)."""
    segments: list[Segment] = []
    if per_shot and len(request.plan.shots) > 1:
        for i, shot in enumerate(request.plan.shots):
            text = shot_prompt(request, i)
            for k, n in enumerate(split(shot.num_frames, first_window, next_window)):
                segments.append(Segment(i, text, n, k > 0, shot.image_indices))
        return segments
    images = tuple(sorted({i for s in request.plan.shots for i in s.image_indices}))
    for k, n in enumerate(split(request.num_frames, first_window, next_window)):
        segments.append(Segment(0, request.prompt, n, k > 0, images))
    return segments


# --- references ---------------------------------------------------------------------------------


def references_of(
    request: RenderRequest, kind: ReferenceKind, role: ReferenceRole | None = None
) -> list[StoredReference]:
    refs = sorted(request.refs(kind), key=lambda r: r.index)
    return [r for r in refs if role is None or r.role is role]


def check_counts(request: RenderRequest, engine: str, limits: dict[ReferenceKind, int]) -> None:
    """Raise InvalidReference when the request has more references of a kind than the engine
    takes."""
    for kind, most in limits.items():
        refs = request.refs(kind)
        if len(refs) > most:
            raise InvalidReference(
                f"engine {engine} takes at most {most} {kind.value} reference(s); got {len(refs)}",
                code=codes.too_many(kind.value),
                param="references",
            )


def plain_mentions(text: str) -> str:
    """`@Image1` / `[Image 1]` -> `reference image 1`, for text encoders that know no labels."""
    out: list[str] = []
    pos = 0
    for m in iter_mentions(text):
        out.append(text[pos : m.start])
        out.append(f"reference {m.kind.value} {m.index}")
        pos = m.end
    out.append(text[pos:])
    return "".join(out)


# --- output -------------------------------------------------------------------------------------


def fitted_frames(
    chunks: Sequence[np.ndarray], native_fps: float, width: int, height: int
) -> Iterator[np.ndarray]:
    """Stream the output: each chunk retimed to 24 fps (its own frame count is fixed by the chunk
    plan), each frame scaled and cropped to exactly width x height."""
    for chunk in chunks:
        yield from (fit_frame(frame, width, height) for frame in chunk)


def retimed(frames: np.ndarray, native_fps: float, num_frames: int) -> np.ndarray:
    """Exactly `num_frames` frames at 24 fps from frames generated at `native_fps`."""
    return frames[retime_indices(num_frames, native_fps, len(frames))]


def join_audio(tracks: Sequence[AudioTrack]) -> AudioTrack | None:
    if not tracks:
        return None
    rate = tracks[0].sample_rate
    same = [t for t in tracks if t.sample_rate == rate]
    return AudioTrack(np.concatenate([t.samples for t in same], axis=1).astype(np.float32), rate)


# --- the lazy, kept-warm pipeline ---------------------------------------------------------------


class DiffusionEngine:
    """Base of the diffusion engines: lazy load under a lock, kept warm, clear readiness errors.

    Subclasses set `name`, `setting` (the settings field of the model), `index_files` and
    implement `_load()` and `_render()`.
    """

    name = "diffusion"
    setting = "engine_model"
    index_files: tuple[str, ...] = ("model_index.json",)

    def __init__(self, options: DiffusionOptions) -> None:
        self.options = options
        self.setting = options.model_setting or type(self).setting
        self._pipe: Any = None
        self._lock = threading.Lock()

    def check_ready(self) -> None:
        """Raise EngineUnavailable when the extra or the weights are missing (cheap: imports and
        loads nothing)."""
        missing = diffusion_extra_missing()
        if missing:
            raise EngineUnavailable(f"engine {self.name}: {missing}")
        self.source()

    def source(self) -> str:
        return check_source(
            self.options.model,
            self.index_files,
            local_files_only=self.options.local_files_only,
            setting=self.setting,
        )

    def pipeline(self) -> Any:
        with self._lock:
            if self._pipe is None:
                self.check_ready()
                self._pipe = self._load()
            return self._pipe

    def render(
        self, request: RenderRequest, progress: ProgressCallback, cancel: CancelToken
    ) -> Rendering:
        if cancel.is_set():
            raise EngineCanceled()
        pipe = self.pipeline()
        with self._lock:  # one render at a time per loaded model
            return self._render(pipe, request, progress, cancel)

    def _load(self) -> Any:
        raise NotImplementedError

    def _render(
        self, pipe: Any, request: RenderRequest, progress: ProgressCallback, cancel: CancelToken
    ) -> Rendering:
        raise NotImplementedError


def generator(seed: int) -> Any:
    """A CPU generator: the same seed gives the same noise on any device."""
    import torch

    return torch.Generator(device="cpu").manual_seed(int(seed) & 0x7FFF_FFFF_FFFF_FFFF)
