"""Probe one reference file: what it is, how big and how long, and whether it really decodes.

The order is the safety argument; nothing is decoded before the cheaper checks passed:

1. Magic bytes name the format (`formats.sniff_format`); it must be of the declared kind and on
   the allow list (`Limits.image_formats`, `video_formats`, `audio_formats`).
2. Plain-Python structure scan (`structure.py`): a file cut short is refused as `truncated`, and
   durations claimed by the headers (MP4 `mvhd`/`mdhd`/`mehd`, WAV data size, MP3 Xing/VBRI)
   are checked against the limits, so an MP4 claiming two hours is refused before FFmpeg opens
   it.
3. Header read by the decoder library, nothing decoded:
   - images: Pillow, restricted to the sniffed format; size from the header; the pixel-bomb
     guard (`max_image_pixels`, and Pillow's own `DecompressionBombWarning` as an error) and the
     side and aspect limits run before `load()`;
   - video and audio: PyAV on a local path only, with the demuxer forced from the allow list,
     `protocol_whitelist=file` (no network protocol, no playlist can reach out), MOV external
     data references off, bounded probing; stream count, codec allow list, duration, frame
     count, pixels per frame and frame rate checked from the header.
4. Then, and only then, a bounded decode: the whole image; the first frames of a video (and every
   packet's timestamp, by demuxing without decoding, to measure its real length and see that no
   packet is missing); an audio file in full, stopping as soon as it is over the limit. The
   deadline is `Limits.probe_timeout_seconds`.
"""

from __future__ import annotations

import re
import struct
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
from PIL import Image

from reelforge import codes
from reelforge.errors import InvalidRequest, UnprocessableMedia
from reelforge.intake.formats import (
    SNIFF_BYTES,
    MediaFormat,
    describe_head,
    sniff_format,
)
from reelforge.intake.limits import Limits
from reelforge.intake.rules import (
    Where,
    check_audio_seconds,
    check_image_pixels,
    check_reference_media,
    check_video_header,
    check_video_seconds,
    reference_error,
)
from reelforge.intake.structure import (
    MalformedContainer,
    Scan,
    scan_iso_bmff,
    scan_mp3,
    scan_png,
    scan_wav,
)
from reelforge.spec import ReferenceKind

__all__ = ["OPEN_OPTIONS", "ProbeResult", "open_media", "probe", "sniff_kind"]

MAX_IMAGE_PIXELS = Limits.max_image_pixels  # the default pixel-bomb guard (see Limits)
DECODE_VIDEO_FRAMES = 2  # frames decoded to prove a video stream is readable
DECODE_VIDEO_PACKETS = 48  # packets fed to the decoder at most to get them (decoder delay)
TRUNCATION_SLACK_SECONDS = 0.5  # decoded audio may fall this much short of its header

# Options for every PyAV open: the `file` protocol only (so neither the path nor anything inside
# the file - an HLS or concat playlist, a MOV data reference - can reach the network or another
# protocol), and bounded probing.
OPEN_OPTIONS = {
    "protocol_whitelist": "file",
    "probesize": str(5 * 1024 * 1024),
    "analyzeduration": str(5_000_000),  # microseconds
}
_DEMUXER_OPTIONS = {"mov": {"enable_drefs": "0", "use_absolute_path": "0"}}


@dataclass(frozen=True)
class ProbeResult:
    kind: ReferenceKind
    mime_type: str
    width: int | None = None
    height: int | None = None
    seconds: float | None = None
    fps: float | None = None
    has_audio: bool = False
    format_name: str | None = None  # "PNG", "MP4", ... (formats.FORMATS)


def sniff_kind(head: bytes) -> ReferenceKind | None:
    """The media kind from magic bytes, or None when unknown."""
    fmt = sniff_format(head)
    return fmt.kind if fmt else None


def open_media(path: Path, demuxer: str) -> Any:
    """Open a local media file with PyAV, safely (see `OPEN_OPTIONS`); the demuxer is forced."""
    options = {**OPEN_OPTIONS, **_DEMUXER_OPTIONS.get(demuxer, {})}
    return av.open(
        f"file:{path.resolve()}", mode="r", format=demuxer, options=options,
        metadata_errors="ignore",
    )  # fmt: skip


def probe(
    path: Path,
    kind: ReferenceKind,
    *,
    param: str,
    index: int | None,
    limits: Limits | None = None,
) -> ProbeResult:
    """Probe `path` as a `kind` reference; raise naming `param` when it breaks a rule."""
    limits = limits or Limits()
    where = Where(param, index)
    size = path.stat().st_size
    if size == 0:
        raise reference_error(codes.INVALID_REFERENCE_EMPTY, "the file is empty (0 bytes)", where)
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    fmt = check_format(head, kind, where, limits)
    deadline = time.monotonic() + limits.probe_timeout_seconds
    if kind is ReferenceKind.IMAGE:
        return _probe_image(path, fmt, where, limits)
    if kind is ReferenceKind.VIDEO:
        return _probe_video(path, fmt, where, limits, deadline)
    return _probe_audio(path, fmt, where, limits, deadline)


def allowed_formats(kind: ReferenceKind, limits: Limits) -> tuple[str, ...]:
    return {
        ReferenceKind.IMAGE: limits.image_formats,
        ReferenceKind.VIDEO: limits.video_formats,
        ReferenceKind.AUDIO: limits.audio_formats,
    }[kind]


def check_format(head: bytes, kind: ReferenceKind, where: Where, limits: Limits) -> MediaFormat:
    """The format named by the magic bytes, which must be of `kind` and allowed."""
    allowed = allowed_formats(kind, limits)
    fmt = sniff_format(head)
    if fmt is None:
        raise reference_error(
            codes.INVALID_REFERENCE_FORMAT,
            f"the bytes are not a recognised {kind.value} format (they begin with "
            f"{describe_head(head)}); allowed: {', '.join(allowed)}",
            where, UnprocessableMedia,
        )  # fmt: skip
    if fmt.kind is not kind:
        raise reference_error(
            codes.INVALID_REFERENCE_KIND_MISMATCH,
            f"given as {kind.value}, but the bytes are a {fmt.name} {fmt.kind.value}",
            where,
        )
    if fmt.name not in allowed:
        raise reference_error(
            codes.INVALID_REFERENCE_FORMAT,
            f"the {kind.value} is {fmt.name}; allowed: {', '.join(allowed)}",
            where, UnprocessableMedia,
        )  # fmt: skip
    return fmt


def _reason(exc: BaseException, path: Path) -> str:
    """An exception's text without the temporary path it may quote."""
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    for p in (f"file:{path.resolve()}", str(path.resolve()), str(path)):
        text = text.replace(f"'{p}'", "the file").replace(p, "the file")
    return text


def _truncated(where: Where, detail: str) -> InvalidRequest:
    return reference_error(
        codes.INVALID_REFERENCE_TRUNCATED,
        f"the file is cut short: {detail}",
        where,
        UnprocessableMedia,
    )


def _undecodable(where: Where, what: str, detail: str) -> InvalidRequest:
    return reference_error(
        codes.INVALID_REFERENCE_UNDECODABLE,
        f"it could not be read as {what}: {detail}",
        where,
        UnprocessableMedia,
    )


def _scan(path: Path, scanner: Any, where: Where, what: str) -> Scan:
    try:
        with path.open("rb") as f:
            scan: Scan = scanner(f)
    except (MalformedContainer, OSError, ValueError, IndexError, KeyError, struct.error) as exc:
        raise _undecodable(where, what, str(exc) or type(exc).__name__) from exc
    if scan.truncated:
        raise _truncated(where, scan.truncated)
    return scan


def _over_time(deadline: float, where: Where, limits: Limits) -> None:
    if time.monotonic() > deadline:
        raise reference_error(
            codes.INVALID_REFERENCE_PROBE_TIMEOUT,
            f"checking it took longer than {limits.probe_timeout_seconds:g} s",
            where, UnprocessableMedia,
        )  # fmt: skip


# ---- images ------------------------------------------------------------------------------


def _probe_image(path: Path, fmt: MediaFormat, where: Where, limits: Limits) -> ProbeResult:
    what = f"a {fmt.name} image"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=[fmt.name]) as img:
                width, height = img.size
                check_image_pixels(where, width, height, limits)  # before anything decodes
                width, height = _oriented(img, width, height)
                check_reference_media(
                    ReferenceKind.IMAGE, where, limits, width=width, height=height
                )
                if fmt.name == "PNG":
                    _scan(path, scan_png, where, what)
                img.load()  # decode once: a damaged file fails now, not in a worker
    except InvalidRequest:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard fired while reading the header ("Image size (N pixels) exceeds").
        found = re.search(r"\((\d+) pixels\)", str(exc))
        said = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
        raise reference_error(
            codes.INVALID_REFERENCE_IMAGE_TOO_MANY_PIXELS,
            f"the image header says {said}; at most {limits.max_image_pixels:,} are decoded",
            where, UnprocessableMedia,
        ) from exc  # fmt: skip
    except Exception as exc:
        reason = _reason(exc, path)
        if "truncated" in reason:
            raise _truncated(where, reason) from exc
        raise _undecodable(where, what, reason) from exc
    return ProbeResult(
        ReferenceKind.IMAGE, fmt.mime, width=width, height=height, format_name=fmt.name
    )


def _oriented(img: Image.Image, width: int, height: int) -> tuple[int, int]:
    """Width and height as shown: EXIF orientations 5..8 turn the picture a quarter."""
    try:
        orientation = img.getexif().get(0x0112)
    except Exception:
        return width, height
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


# ---- video -------------------------------------------------------------------------------


def _codec_name(stream: Any) -> str:
    try:
        return str(stream.codec_context.codec.canonical_name)
    except Exception:
        return "unknown"


def _check_header_claim(scan: Scan, kind: ReferenceKind, where: Where, limits: Limits) -> None:
    """A duration claimed by the container's own headers, before FFmpeg opens the file."""
    claim = scan.longest_claim
    if claim is None:
        return
    name, seconds = claim
    high = limits.max_video_seconds if kind is ReferenceKind.VIDEO else limits.max_audio_seconds
    if seconds > high + limits.duration_tolerance_seconds:
        raise reference_error(
            codes.too_long(kind.value),
            f"its {name} header says it is {seconds:,.1f} s long; at most {high:g} s "
            "(refused before reading the stream)",
            where,
        )


def _probe_video(
    path: Path, fmt: MediaFormat, where: Where, limits: Limits, deadline: float
) -> ProbeResult:
    what = f"a {fmt.name} video"
    scan = _scan(path, scan_iso_bmff, where, what)
    _check_header_claim(scan, ReferenceKind.VIDEO, where, limits)
    assert fmt.demuxer is not None
    try:
        with open_media(path, fmt.demuxer) as container:
            return _video_streams(container, fmt, where, limits, deadline)
    except InvalidRequest:
        raise
    except Exception as exc:
        raise _undecodable(where, what, _reason(exc, path)) from exc


def _first_stream(
    streams: Any, kind: str, codecs: Sequence[str], where: Where, limits: Limits
) -> Any:
    """The first `kind` stream, after the stream count and its codec passed the allow lists."""
    _check_stream_count(streams, where, limits)
    found = getattr(streams, kind)
    if not found:
        raise reference_error(codes.no_stream(kind), f"the file has no {kind} stream", where,
                              UnprocessableMedia)  # fmt: skip
    stream = found[0]
    codec = _codec_name(stream)
    if codec not in codecs:
        raise reference_error(
            codes.INVALID_REFERENCE_CODEC,
            f"the {kind} stream is {codec}; allowed: {', '.join(codecs)}",
            where,
            UnprocessableMedia,
        )
    return stream


def _video_streams(
    container: Any, fmt: MediaFormat, where: Where, limits: Limits, deadline: float
) -> ProbeResult:
    streams = container.streams
    vs = _first_stream(streams, "video", limits.video_codecs, where, limits)
    for audio in streams.audio:
        acodec = _codec_name(audio)
        if acodec not in limits.video_audio_codecs:
            raise reference_error(
                codes.INVALID_REFERENCE_CODEC,
                f"the video's audio stream is {acodec}; allowed: "
                f"{', '.join(limits.video_audio_codecs)}",
                where, UnprocessableMedia,
            )  # fmt: skip
    # Header facts; nothing is decoded yet.
    ctx = vs.codec_context
    width, height = ctx.width or None, ctx.height or None
    rate = vs.average_rate or vs.guessed_rate
    fps = float(rate) if rate else None
    stream_seconds = float(vs.duration * vs.time_base) if vs.duration and vs.time_base else None
    container_seconds = container.duration / 1_000_000 if container.duration else None
    longest = max((s for s in (stream_seconds, container_seconds) if s), default=None)
    if longest is not None and longest > limits.max_video_seconds:
        check_video_seconds(where, limits, longest)
    if vs.frames and vs.frames > limits.max_video_frames:
        raise _too_many_frames(where, limits, vs.frames, "its header lists")
    check_video_header(where, limits, width, height, fps)
    header_seconds = stream_seconds or container_seconds
    if header_seconds is not None:
        check_video_seconds(where, limits, header_seconds)
    # Now read: decode the first frames, demux the rest without decoding.
    measured = _read_video(container, vs, where, limits, deadline)
    seconds = measured or header_seconds
    if seconds is not None:
        check_video_seconds(where, limits, seconds)
    return ProbeResult(
        ReferenceKind.VIDEO, fmt.mime, width=width, height=height,
        seconds=round(seconds, 3) if seconds is not None else None, fps=fps,
        has_audio=bool(streams.audio), format_name=fmt.name,
    )  # fmt: skip


def _check_stream_count(streams: Any, where: Where, limits: Limits) -> None:
    n = len(streams)
    if n > limits.max_streams:
        raise reference_error(
            codes.INVALID_REFERENCE_TOO_MANY_STREAMS,
            f"the file has {n} streams; at most {limits.max_streams}",
            where, UnprocessableMedia,
        )  # fmt: skip


def _too_many_frames(where: Where, limits: Limits, frames: int, how: str) -> InvalidRequest:
    return reference_error(
        codes.INVALID_REFERENCE_VIDEO_TOO_MANY_FRAMES,
        f"{how} {frames:,} frames; at most {limits.max_video_frames:,} "
        f"({limits.max_video_seconds:g} s at {limits.max_video_fps:g} fps)",
        where,
    )


def _read_video(
    container: Any, vs: Any, where: Where, limits: Limits, deadline: float
) -> float | None:
    """Decode the first frames and demux every packet (without decoding it) to count them and
    measure the stream; returns the measured duration in seconds."""
    decoded = packets = 0
    first: int | None = None
    end: int | None = None
    for packet in container.demux(vs):
        _over_time(deadline, where, limits)
        if packet.size == 0:  # the flush packet at the end
            if decoded < DECODE_VIDEO_FRAMES:
                decoded += len(vs.codec_context.decode(None))
            continue
        packets += 1
        if packets > limits.max_video_frames:
            raise _too_many_frames(where, limits, packets, "the stream holds more than")
        if packet.pts is not None:
            first = packet.pts if first is None else min(first, packet.pts)
            stop = packet.pts + (packet.duration or 0)
            end = stop if end is None else max(end, stop)
        if decoded < DECODE_VIDEO_FRAMES and packets <= DECODE_VIDEO_PACKETS:
            decoded += len(packet.decode())
    if decoded == 0:
        raise reference_error(
            codes.INVALID_REFERENCE_UNDECODABLE,
            f"no frame could be decoded from its first {min(packets, DECODE_VIDEO_PACKETS)} "
            "packets",
            where, UnprocessableMedia,
        )  # fmt: skip
    if vs.frames and packets < vs.frames:
        raise _truncated(where, f"its header lists {vs.frames} frames; the file holds {packets}")
    if first is None or end is None or not vs.time_base:
        return None
    return float((end - first) * vs.time_base)


# ---- audio -------------------------------------------------------------------------------


def _probe_audio(
    path: Path, fmt: MediaFormat, where: Where, limits: Limits, deadline: float
) -> ProbeResult:
    what = f"{fmt.name} audio"
    scan = _scan(path, scan_mp3 if fmt.name == "MP3" else scan_wav, where, what)
    _check_header_claim(scan, ReferenceKind.AUDIO, where, limits)
    assert fmt.demuxer is not None
    try:
        with open_media(path, fmt.demuxer) as container:
            seconds = _read_audio(container, where, limits, deadline)
    except InvalidRequest:
        raise
    except Exception as exc:
        raise _undecodable(where, what, _reason(exc, path)) from exc
    claim = scan.longest_claim
    if claim is not None and seconds < claim[1] - TRUNCATION_SLACK_SECONDS:
        raise _truncated(
            where, f"its {claim[0]} header says {claim[1]:.2f} s; {seconds:.2f} s decode"
        )
    check_audio_seconds(where, limits, seconds)
    return ProbeResult(
        ReferenceKind.AUDIO, fmt.mime, seconds=round(seconds, 3), has_audio=True,
        format_name=fmt.name,
    )  # fmt: skip


def _read_audio(container: Any, where: Where, limits: Limits, deadline: float) -> float:
    """Decode the first audio stream in full, stopping once it is over the limit."""
    streams = container.streams
    stream = _first_stream(streams, "audio", limits.audio_codecs, where, limits)
    rate = stream.codec_context.sample_rate or stream.sample_rate
    if not rate:
        raise reference_error(
            codes.INVALID_REFERENCE_UNDECODABLE,
            "the audio stream has no sample rate",
            where,
            UnprocessableMedia,
        )
    cap = limits.max_audio_seconds + limits.duration_tolerance_seconds
    samples = 0
    for frame in container.decode(stream):
        _over_time(deadline, where, limits)
        samples += frame.samples
        if samples / rate > cap:
            raise reference_error(
                codes.INVALID_REFERENCE_AUDIO_TOO_LONG,
                f"the audio runs longer than {cap:g} s (decoding stopped there); at most "
                f"{limits.max_audio_seconds:g} s",
                where,
            )
    if samples == 0:
        raise reference_error(
            codes.INVALID_REFERENCE_UNDECODABLE,
            "no audio could be decoded",
            where,
            UnprocessableMedia,
        )
    return samples / rate
