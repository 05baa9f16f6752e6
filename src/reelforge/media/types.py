"""Types shared by the media layer and the engines above it: audio samples, progress and cancel.

They live here, below `engines/`, so that decoding and encoding never import an engine module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

ProgressCallback = Callable[[float], None]
"""Called with the fraction done, 0.0..1.0, monotonically increasing."""


class CancelToken(Protocol):
    def is_set(self) -> bool: ...


class EngineCanceled(Exception):
    """Raised by an engine (or the encoder it feeds) that saw its cancel token set."""


@dataclass(frozen=True)
class AudioTrack:
    """Float32 samples in -1..1, shape (channels, n), at `sample_rate`."""

    samples: np.ndarray
    sample_rate: int = 48_000

    @property
    def seconds(self) -> float:
        return float(self.samples.shape[1]) / self.sample_rate
