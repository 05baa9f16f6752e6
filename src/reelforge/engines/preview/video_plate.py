"""A reference video as a looping background plate, decoded lazily at plate size.

Frames are pulled one at a time and mapped from output time to source time (a 30 fps clip
under a 24 fps render skips frames; a short clip loops), so memory stays at one frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np

from reelforge.errors import UnprocessableMedia
from reelforge.media.decode import iter_video_frames


class LoopingVideo:
    def __init__(self, path: Path, width: int, height: int, src_fps: float, out_fps: int) -> None:
        if src_fps <= 0:
            raise ValueError(f"src_fps must be > 0, got {src_fps}")
        self._path = path
        self._size = (width, height)
        self._ratio = src_fps / out_fps
        self._count: int | None = None
        self._iter: Iterator[np.ndarray] | None = None
        self._pos = -1
        self._current: np.ndarray | None = None
        self._decoded = 0  # frames decoded so far: changes exactly when the current frame does

    @property
    def version(self) -> int:
        """A number that changes whenever `frame_at` starts returning a different frame (array
        ids can be reused once a frame is freed; this cannot)."""
        return self._decoded

    def frame_at(self, index: int) -> np.ndarray:
        """The source frame shown at output frame `index` (RGB uint8 at plate size)."""
        j = int(index * self._ratio + 1e-9)
        if self._count:
            j %= self._count
        if self._current is None or j < self._pos:
            self._restart()
        while self._pos < j:
            assert self._iter is not None
            nxt = next(self._iter, None)
            if nxt is None:
                if self._pos < 0:
                    raise UnprocessableMedia(f"{self._path.name} has no video frames")
                self._count = self._pos + 1
                j %= self._count
                self._restart()
                continue
            self._current = nxt
            self._pos += 1
            self._decoded += 1
        assert self._current is not None
        return self._current

    def _restart(self) -> None:
        self.close()
        self._iter = iter_video_frames(self._path, width=self._size[0], height=self._size[1])
        self._pos = -1
        self._current = None

    def close(self) -> None:
        it = self._iter
        self._iter = None
        close = getattr(it, "close", None)
        if callable(close):
            close()
