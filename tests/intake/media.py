"""Reference media made in code for the intake tests: valid files of every allowed format and the
broken or hostile ones the intake must refuse (cut short, lying headers, pixel bombs)."""

from __future__ import annotations

import io
import struct
import tempfile
import zlib
from pathlib import Path

import av
import numpy as np
from PIL import Image


def _noise(width: int, height: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(height // 16, 1), max(width // 16, 1), 3), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.NEAREST))


def image_bytes(width: int = 640, height: int = 480, fmt: str = "PNG", seed: int = 0) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(_noise(width, height, seed)).save(buf, format=fmt)
    return buf.getvalue()


def _png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def png_header_only(width: int, height: int) -> bytes:
    """A well-formed PNG that *claims* width x height (IHDR) with a tiny IDAT: the pixels are
    never allocated here, and must not be by the server either."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + _png_chunk(b"IEND", b"")
    )


def mp4_bytes(
    seconds: float,
    width: int = 640,
    height: int = 640,
    fps: int = 24,
    *,
    faststart: bool = False,
    with_audio: bool = False,
) -> bytes:
    """A small H.264 MP4 (ultrafast, low quality: tiny and quick to make). `faststart` puts the
    `moov` box first (FFmpeg rewrites the file for it, so it goes through a temporary file)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "v.mp4"
        options = {"movflags": "faststart"} if faststart else {}
        with av.open(str(path), "w", format="mp4", options=options) as out:
            _write_video(out, seconds, width, height, fps, with_audio)
        return path.read_bytes()


def _write_video(
    out: av.container.OutputContainer,
    seconds: float,
    width: int,
    height: int,
    fps: int,
    with_audio: bool,
) -> None:
    vs = out.add_stream("libx264", rate=fps)
    vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
    vs.options = {"preset": "ultrafast", "crf": "45"}
    a_s = out.add_stream("aac", rate=48_000) if with_audio else None
    base = _noise(width, height)
    for i in range(round(seconds * fps)):
        frame = av.VideoFrame.from_ndarray(np.roll(base, i * 8, axis=1), format="rgb24")
        for packet in vs.encode(frame):
            out.mux(packet)
    for packet in vs.encode():
        out.mux(packet)
    if a_s is not None:
        _encode_tone(out, a_s, seconds, 48_000)


def _encode_tone(out: av.container.OutputContainer, stream: av.AudioStream, seconds: float,
                 rate: int, layout: str = "mono") -> None:  # fmt: skip
    n = round(seconds * rate)
    t = np.arange(n) / rate
    pcm = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    size = stream.codec_context.frame_size or 1152
    for i in range(0, n, size):
        frame = av.AudioFrame.from_ndarray(pcm[None, i : i + size], format="s16", layout=layout)
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode():
        out.mux(packet)


def audio_bytes(seconds: float, fmt: str = "mp3", rate: int = 44_100, *, xing: bool = True
                ) -> bytes:  # fmt: skip
    """MP3 (LAME, with its Info header unless `xing` is false) or 16-bit WAV of a 440 Hz tone."""
    buf = io.BytesIO()
    codec = {"mp3": "libmp3lame", "wav": "pcm_s16le"}[fmt]
    options = {"write_xing": "0"} if fmt == "mp3" and not xing else {}
    with av.open(buf, "w", format=fmt, options=options) as out:
        stream = out.add_stream(codec, rate=rate)
        stream.layout = "mono"
        _encode_tone(out, stream, seconds, rate)
    return buf.getvalue()


def claim_duration(mp4: bytes, seconds: float) -> bytes:
    """The same MP4 with its `mvhd` and every `mdhd` claiming `seconds` (the samples stay)."""
    data = bytearray(mp4)
    for box in (b"mvhd", b"mdhd"):
        at = data.find(box)
        while at >= 0:
            assert data[at + 4] == 0, "version 0 boxes expected"
            timescale = struct.unpack_from(">I", data, at + 16)[0]
            struct.pack_into(">I", data, at + 20, int(seconds * timescale))
            at = data.find(box, at + 4)
    return bytes(data)


def cut(data: bytes, fraction: float = 0.5) -> bytes:
    return data[: int(len(data) * fraction)]


def cut_with_honest_mdat(faststart_mp4: bytes, fraction: float = 0.6) -> bytes:
    """A faststart MP4 cut short whose `mdat` size was fixed up to match: the box tree looks
    whole, so only counting the packets against the sample table shows the loss."""
    data = bytearray(cut(faststart_mp4, fraction))
    at = data.find(b"mdat") - 4
    struct.pack_into(">I", data, at, len(data) - at)
    return bytes(data)


def hls_playlist(url: str) -> bytes:
    return (
        f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXTINF:2.0,\n{url}\n#EXT-X-ENDLIST\n"
    ).encode()
