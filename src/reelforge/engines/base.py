"""The engine contract: typed inputs in, frames and audio out.

Engines know nothing of HTTP, jobs, URLs or database rows. They get a `RenderRequest` (the shot
plan and the stored references, each with a local copy of its bytes), report progress through a
callback and stop between frames or denoising steps when the cancel token is set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from reelforge.core.references import StoredReference
from reelforge.media.types import AudioTrack, CancelToken, ProgressCallback
from reelforge.planning.model import ShotPlan
from reelforge.spec import ReferenceKind


def discard_log(_message: str) -> None:
    """The default job log of a request: drops messages."""


@dataclass(frozen=True)
class RenderRequest:
    prompt: str
    plan: ShotPlan
    width: int
    height: int
    num_frames: int
    fps: int = 24
    seed: int = 0
    generate_audio: bool = True
    references: tuple[StoredReference, ...] = ()
    preset: str = "default"  # "fast" | "pro" | "default", from the model name's alias
    # Picklable (a module-level function or an object), so a request can cross to the
    # process that hosts the engine.
    log: Callable[[str], None] = field(default=discard_log, compare=False)

    def refs(self, kind: ReferenceKind) -> list[StoredReference]:
        return [r for r in self.references if r.kind is kind]


@dataclass
class Rendering:
    """What an engine hands back: frames streamed one by one (RGB uint8, height x width x 3,
    exactly `num_frames` of them) and the soundtrack (None for a silent video)."""

    frames: Iterator[np.ndarray]
    audio: AudioTrack | None


class Engine(Protocol):
    name: str

    def check_inputs(self, request: RenderRequest) -> None:
        """Raise `reelforge.errors.InvalidRequest` naming the bad value."""

    def render(
        self, request: RenderRequest, progress: ProgressCallback, cancel: CancelToken
    ) -> Rendering: ...
