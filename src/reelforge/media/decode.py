"""Decode references into arrays: images via Pillow, video frames and audio via PyAV.

Every failure to decode becomes `UnprocessableMedia`, so callers never see a Pillow or FFmpeg
exception type.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import av
import av.error
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from reelforge import codes
from reelforge.errors import UnprocessableMedia
from reelforge.media.types import AudioTrack

# Transparent pixels are laid on a neutral grey: a flat border the cut-out reads as a studio shot.
_MATTE_GREY = (127, 127, 127)


def load_image(path: Path | str) -> np.ndarray:
    """An image as RGB uint8 (height, width, 3), EXIF orientation applied.

    Pillow's MAX_IMAGE_PIXELS guard stays on, so a pixel bomb fails before it is decoded.
    Animated formats give their first frame; transparency is flattened onto grey.
    """
    try:
        with Image.open(path) as img:
            img.seek(0)
            upright = ImageOps.exif_transpose(img)
            rgb = _flatten(upright)
            return np.asarray(rgb, dtype=np.uint8).copy()
    except Image.DecompressionBombError as exc:
        raise UnprocessableMedia(
            f"image has too many pixels: {exc}", code=codes.INVALID_REFERENCE_TOO_MANY_PIXELS
        ) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise UnprocessableMedia(f"cannot decode image {Path(path).name}: {exc}") from exc


def _flatten(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        base = Image.new("RGBA", rgba.size, (*_MATTE_GREY, 255))
        return Image.alpha_composite(base, rgba).convert("RGB")
    return img.convert("RGB")


def iter_video_frames(
    path: Path | str,
    width: int | None = None,
    height: int | None = None,
    max_frames: int | None = None,
) -> Iterator[np.ndarray]:
    """Decode the first video stream frame by frame as RGB uint8.

    With only one of `width`/`height` the other follows the aspect ratio. The file is closed
    when the iterator ends or is closed.
    """
    if max_frames is not None and max_frames <= 0:
        return
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise UnprocessableMedia(f"cannot open video {Path(path).name}: {exc}") from exc
    with container:
        if not container.streams.video:
            raise UnprocessableMedia(f"{Path(path).name} has no video stream")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        size: tuple[int, int] | None = None
        count = 0
        try:
            for frame in container.decode(stream):
                if size is None:
                    size = _target_size(frame.width, frame.height, width, height)
                yield frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
                count += 1
                if max_frames is not None and count >= max_frames:
                    return
        except av.error.FFmpegError as exc:
            raise UnprocessableMedia(f"cannot decode video {Path(path).name}: {exc}") from exc
        if count == 0:
            raise UnprocessableMedia(f"{Path(path).name} has no decodable video frames")


def _target_size(src_w: int, src_h: int, width: int | None, height: int | None) -> tuple[int, int]:
    if width is None and height is None:
        return src_w, src_h
    if width is None:
        assert height is not None
        return max(1, round(src_w * height / src_h)), height
    if height is None:
        return width, max(1, round(src_h * width / src_w))
    return width, height


def load_audio(
    path: Path | str,
    sample_rate: int = 48_000,
    channels: int = 2,
    max_seconds: float | None = None,
) -> AudioTrack:
    """The first audio stream, resampled to float32 planar (channels, n) at `sample_rate`."""
    if channels not in (1, 2):
        raise ValueError(f"channels must be 1 or 2, got {channels}")
    layout = "mono" if channels == 1 else "stereo"
    limit = None if max_seconds is None else max(0, round(max_seconds * sample_rate))
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise UnprocessableMedia(f"cannot open audio {Path(path).name}: {exc}") from exc
    chunks: list[np.ndarray] = []
    total = 0
    with container:
        if not container.streams.audio:
            raise UnprocessableMedia(f"{Path(path).name} has no audio stream")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=sample_rate)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray())
                    total += out.samples
                if limit is not None and total >= limit:
                    break
            else:
                for out in resampler.resample(None):
                    chunks.append(out.to_ndarray())
                    total += out.samples
        except av.error.FFmpegError as exc:
            raise UnprocessableMedia(f"cannot decode audio {Path(path).name}: {exc}") from exc
    if not chunks:
        raise UnprocessableMedia(f"{Path(path).name} has no decodable audio")
    samples = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    if limit is not None:
        samples = samples[:, :limit]
    return AudioTrack(samples=np.ascontiguousarray(samples), sample_rate=sample_rate)
