"""Video with an alpha channel, for compositing: ProRes 4444 in QuickTime (`yuva444p10le`,
AAC audio) or VP9 in WebM (`yuva420p`, Opus audio). Frames are RGBA uint8 (straight colour),
streamed into the encoder; the file is written under a temporary name and moved into place when
complete.

Decoding note: FFmpeg's native VP9 decoder drops the alpha plane of WebM files (it travels as
side data); decode with `libvpx-vp9` to read it (`read_alpha` does).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Literal

import av
import numpy as np
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

from reelforge.media.types import AudioTrack, CancelToken, EngineCanceled

AlphaCodec = Literal["prores_4444", "vp9"]
SAMPLE_RATE = 48_000

_VIDEO: dict[str, tuple[str, str, str, dict[str, str]]] = {
    # codec: (container format, encoder, pixel format, options)
    "prores_4444": ("mov", "prores_ks", "yuva444p10le", {"profile": "4", "alpha_bits": "16"}),
    "vp9": (
        "webm",
        "libvpx-vp9",
        "yuva420p",
        {"crf": "32", "b": "0", "deadline": "realtime", "cpu-used": "8", "row-mt": "1"},
    ),
}
_AUDIO = {"prores_4444": "aac", "vp9": "libopus"}
SUFFIX = {"prores_4444": ".mov", "vp9": ".webm"}


def encode_alpha(
    path: Path,
    frames: Iterable[np.ndarray],
    *,
    width: int,
    height: int,
    num_frames: int,
    codec: AlphaCodec,
    fps: int = 24,
    audio: AudioTrack | None = None,
    cancel: CancelToken | None = None,
) -> Path:
    """Encode exactly `num_frames` RGBA frames of (height, width, 4)."""
    fmt, encoder, pix_fmt, options = _VIDEO[codec]
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=".tmp-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with av.open(str(tmp), "w", format=fmt) as out:
            video = out.add_stream(encoder, rate=fps, options=options)
            assert isinstance(video, VideoStream)
            video.width, video.height = width, height
            video.pix_fmt = pix_fmt
            video.time_base = Fraction(1, fps)
            # Both encoders are intra-slice / row threaded: the bytes do not depend on it.
            video.codec_context.thread_count = 4
            sound: AudioStream | None = None
            if audio is not None:
                added = out.add_stream(_AUDIO[codec], rate=SAMPLE_RATE, layout="stereo")
                assert isinstance(added, AudioStream)
                sound = added
            for count, rgba in enumerate(_checked(frames, width, height, num_frames)):
                if cancel is not None and cancel.is_set():
                    raise EngineCanceled(f"canceled at frame {count} of {num_frames}")
                frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgba), format="rgba")
                frame = frame.reformat(format=pix_fmt)
                frame.pts = count
                out.mux(video.encode(frame))
            out.mux(video.encode(None))
            if sound is not None and audio is not None:
                _encode_audio(out, sound, audio, num_frames / fps)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; outputs are ordinary readable files
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return path


def checkerboard(width: int, height: int, square: int = 16) -> np.ndarray:
    """The grey checkerboard editors draw behind transparency (RGB uint8)."""
    ys, xs = np.indices((height, width))
    light = ((ys // square + xs // square) % 2).astype(bool)
    board = np.where(light, 204, 153).astype(np.uint8)
    return np.repeat(board[:, :, None], 3, axis=2)


def flatten(rgba: np.ndarray, background: np.ndarray | None = None) -> np.ndarray:
    """An RGBA frame over `background` (RGB, default the checkerboard): for the thumbnail and
    the spritesheet of an alpha video, which are JPEGs."""
    h, w = rgba.shape[:2]
    under = checkerboard(w, h) if background is None else background
    a = rgba[:, :, 3:4].astype(np.float32) / 255.0
    out = rgba[:, :, :3].astype(np.float32) * a + under.astype(np.float32) * (1.0 - a)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def write_rgba_png(path: Path, rgba: np.ndarray) -> Path:
    """Write an RGBA uint8 frame as PNG (alpha kept), atomically."""
    from PIL import Image

    if rgba.ndim != 3 or rgba.shape[2] != 4 or rgba.dtype != np.uint8:
        raise ValueError(f"expected an RGBA uint8 frame, got {rgba.shape} {rgba.dtype}")
    path = Path(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        Image.fromarray(np.ascontiguousarray(rgba), "RGBA").save(
            tmp_name, format="PNG", compress_level=3
        )
        os.chmod(tmp_name, 0o644)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    return path


def _checked(
    frames: Iterable[np.ndarray], width: int, height: int, num_frames: int
) -> Iterator[np.ndarray]:
    count = 0
    for frame in frames:
        if frame.shape != (height, width, 4) or frame.dtype != np.uint8:
            raise ValueError(
                f"frame {count} is {frame.shape} {frame.dtype}, want ({height}, {width}, 4) uint8"
            )
        count += 1
        if count > num_frames:
            raise ValueError(f"more than {num_frames} frames")
        yield frame
    if count != num_frames:
        raise ValueError(f"{count} frames, want {num_frames}")


def _encode_audio(
    out: av.container.OutputContainer, stream: AudioStream, audio: AudioTrack, seconds: float
) -> None:
    if audio.sample_rate != SAMPLE_RATE:
        raise ValueError(f"audio at {audio.sample_rate} Hz, want {SAMPLE_RATE}")
    n = round(seconds * SAMPLE_RATE)
    samples = np.zeros((2, n), np.float32)
    src = np.asarray(audio.samples, np.float32)
    if src.shape[0] == 1:
        src = np.repeat(src, 2, axis=0)
    k = min(n, src.shape[1])
    samples[:, :k] = src[:2, :k]
    chunk = stream.codec_context.frame_size or 1024
    for pos in range(0, n, chunk):
        piece = np.ascontiguousarray(samples[:, pos : pos + chunk])
        frame = av.AudioFrame.from_ndarray(piece, format="fltp", layout="stereo")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = pos
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))


def read_alpha(path: Path | str, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Decode an alpha video back to RGBA uint8 frames (libvpx for WebM, so the alpha plane is
    kept)."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        if stream.codec_context.name == "vp9":
            ctx = av.codec.CodecContext.create("libvpx-vp9", "r")
            ctx.extradata = stream.codec_context.extradata
            decoded: Iterator[av.VideoFrame] = (
                f for p in container.demux(stream) for f in ctx.decode(p)
            )
        else:
            decoded = iter(container.decode(stream))
        for i, frame in enumerate(decoded):
            if max_frames is not None and i >= max_frames:
                break
            yield frame.to_ndarray(format="rgba")
