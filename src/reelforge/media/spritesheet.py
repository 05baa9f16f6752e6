"""A spritesheet of an encoded video: evenly spaced frames tiled in a grid, one JPEG.

It is the `variant=spritesheet` download of the OpenAI Videos API ("lightweight assets useful
for previews, scrubbers, or catalog displays"): `COLUMNS` x `ROWS` tiles, left to right then
top to bottom, the first tile the first frame and the last tile the last frame. Each tile keeps
the video's aspect ratio with its long side `TILE_LONG_SIDE` pixels (never larger than the
video). A video with fewer frames than tiles fills the tiles it has; the rest stay black.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import cv2
import numpy as np

from reelforge.errors import UnprocessableMedia
from reelforge.media.encode import write_jpeg

COLUMNS = 4
ROWS = 4
TILE_LONG_SIDE = 320
JPEG_QUALITY = 85


@dataclass(frozen=True)
class Spritesheet:
    path: Path
    columns: int
    rows: int
    tile_width: int
    tile_height: int
    frame_indices: tuple[int, ...]  # the video frame shown in each tile, in tile order

    @property
    def width(self) -> int:
        return self.columns * self.tile_width

    @property
    def height(self) -> int:
        return self.rows * self.tile_height


def tile_size(width: int, height: int, long_side: int = TILE_LONG_SIDE) -> tuple[int, int]:
    """A tile's (width, height): the video's shape, long side `long_side` at most, even sides."""
    scale = min(1.0, long_side / max(width, height))
    return max(2, round(width * scale / 2) * 2), max(2, round(height * scale / 2) * 2)


def spaced_indices(total: int, count: int) -> list[int]:
    """`count` frame indices spread evenly over `total` frames, first and last included."""
    if total <= 0:
        return []
    if total <= count:
        return list(range(total))
    if count == 1:
        return [0]
    return [round(i * (total - 1) / (count - 1)) for i in range(count)]


class SheetCollector:
    """Keeps a small copy of the frames a spritesheet shows while they stream past (into the
    encoder), so the sheet needs no second decode of the video."""

    def __init__(
        self, width: int, height: int, total: int, *, columns: int = COLUMNS, rows: int = ROWS,
        long_side: int = TILE_LONG_SIDE,
    ) -> None:  # fmt: skip
        self.columns, self.rows = columns, rows
        self.tile_w, self.tile_h = tile_size(width, height, long_side)
        self._wanted = set(spaced_indices(total, columns * rows))
        self._order = spaced_indices(total, columns * rows)
        self.tiles: dict[int, np.ndarray] = {}

    def watch(self, frames: Iterable[np.ndarray]) -> Iterator[np.ndarray]:
        for i, frame in enumerate(frames):
            if i in self._wanted:
                self.tiles[i] = cv2.resize(
                    frame, (self.tile_w, self.tile_h), interpolation=cv2.INTER_AREA
                )
            yield frame

    def write(self, out: Path) -> Spritesheet:
        shown = tuple(i for i in self._order if i in self.tiles)
        if not shown:
            raise UnprocessableMedia("no frame reached the spritesheet")
        return _write_sheet(
            out, {i: self.tiles[i] for i in shown}, shown, self.columns, self.rows,
            self.tile_w, self.tile_h,
        )  # fmt: skip


def write_spritesheet(
    video: Path,
    out: Path,
    *,
    columns: int = COLUMNS,
    rows: int = ROWS,
    long_side: int = TILE_LONG_SIDE,
) -> Spritesheet:
    """Decode `video` once (only the chosen frames are scaled and kept) and write the grid to
    `out` as JPEG, atomically."""
    try:
        container = av.open(str(video))
    except (av.error.FFmpegError, OSError) as exc:
        raise UnprocessableMedia(f"cannot open video {video.name}: {exc}") from exc
    with container:
        if not container.streams.video:
            raise UnprocessableMedia(f"{video.name} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        tile_w, tile_h = tile_size(stream.width, stream.height, long_side)
        total = stream.frames or _count_frames(video)
        wanted = spaced_indices(total, columns * rows)
        tiles: dict[int, np.ndarray] = {}
        try:
            for i, frame in enumerate(container.decode(stream)):
                if i in wanted:
                    tiles[i] = frame.to_ndarray(format="rgb24", width=tile_w, height=tile_h)
                if len(tiles) == len(set(wanted)):
                    break
        except av.error.FFmpegError as exc:
            raise UnprocessableMedia(f"cannot decode video {video.name}: {exc}") from exc
    if not tiles:
        raise UnprocessableMedia(f"{video.name} has no decodable video frames")
    shown = tuple(i for i in wanted if i in tiles)
    return _write_sheet(out, tiles, shown, columns, rows, tile_w, tile_h)


def _write_sheet(
    out: Path, tiles: dict[int, np.ndarray], shown: tuple[int, ...], columns: int, rows: int,
    tile_w: int, tile_h: int,
) -> Spritesheet:  # fmt: skip
    sheet = np.zeros((rows * tile_h, columns * tile_w, 3), np.uint8)
    for slot, index in enumerate(shown):
        r, c = divmod(slot, columns)
        sheet[r * tile_h : (r + 1) * tile_h, c * tile_w : (c + 1) * tile_w] = tiles[index]
    write_jpeg(out, sheet, quality=JPEG_QUALITY)
    return Spritesheet(out, columns, rows, tile_w, tile_h, shown)


def _count_frames(video: Path) -> int:
    """Frames of a stream whose header does not say (packets, without decoding)."""
    with av.open(str(video)) as container:
        stream = container.streams.video[0]
        return sum(1 for p in container.demux(stream) if p.size)
