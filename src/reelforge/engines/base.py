"""The engine contract: typed inputs in, frames and audio out.

Engines know nothing of HTTP, jobs, URLs or database rows. They get a `RenderRequest` (the shot
plan and the decoded references), report progress through a callback and stop between frames or
denoising steps when the cancel token is set.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np

from reelforge.media.types import AudioTrack, CancelToken, ProgressCallback
from reelforge.planning.model import ShotPlan
from reelforge.spec import ReferenceKind, ReferenceRole


def discard_log(_message: str) -> None:
    """The default job log of a request: drops messages."""


@dataclass(frozen=True)
class DecodedReference:
    """A reference after intake: stored at `path`, probed, decoded on demand.

    `index` is 1-based within its kind (`@Image2` is the image with index 2).
    """

    kind: ReferenceKind
    role: ReferenceRole
    index: int
    path: Path
    width: int | None = None
    height: int | None = None
    seconds: float | None = None
    fps: float | None = None


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
    references: tuple[DecodedReference, ...] = ()
    preset: str = "default"  # "fast" | "pro" | "default", from the model name's alias
    # Picklable (a module-level function or an object), so a request can cross to the
    # process that hosts the engine.
    log: Callable[[str], None] = field(default=discard_log, compare=False)

    def refs(self, kind: ReferenceKind) -> list[DecodedReference]:
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
