"""Probe reference media from its header before anything is decoded in full.

Images: Pillow reads the header (size, format) and refuses pixel bombs before decoding; then the
image is decoded once to prove it is whole. Video and audio: PyAV opens the file with the
container forced from an allow list (no network protocols: only a local path is ever given) and
reads stream headers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from reelforge.errors import UnprocessableMedia
from reelforge.spec import ReferenceKind

IMAGE_FORMATS = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp",
                 "BMP": "image/bmp", "TIFF": "image/tiff", "GIF": "image/gif"}  # fmt: skip
VIDEO_CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2"}
VIDEO_CODECS = {"h264", "hevc", "mpeg4", "vp9", "av1", "prores", "mjpeg"}
AUDIO_CONTAINERS = {"mp3": "audio/mpeg", "wav": "audio/wav"}
MAX_IMAGE_PIXELS = 6000 * 6000


@dataclass(frozen=True)
class ProbeResult:
    kind: ReferenceKind
    mime_type: str
    width: int | None = None
    height: int | None = None
    seconds: float | None = None
    fps: float | None = None
    has_audio: bool = False


def sniff_kind(head: bytes) -> ReferenceKind | None:
    """The media kind from magic bytes, or None when unknown."""
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM", b"II*\x00", b"MM\x00*")):
        return ReferenceKind.IMAGE
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return ReferenceKind.IMAGE
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return ReferenceKind.AUDIO
    if head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        return ReferenceKind.VIDEO
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return ReferenceKind.AUDIO
    return None


def probe(path: Path, kind: ReferenceKind, *, param: str, index: int) -> ProbeResult:
    if path.stat().st_size == 0:
        raise UnprocessableMedia(
            f"{param} is empty (0 bytes)", code="invalid_reference.empty",
            param=param, reference_index=index,
        )  # fmt: skip
    if kind is ReferenceKind.IMAGE:
        return _probe_image(path, param=param, index=index)
    return _probe_av(path, kind, param=param, index=index)


def _probe_image(path: Path, *, param: str, index: int) -> ProbeResult:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as img:
                fmt = img.format or ""
                w, h = img.size
                if fmt not in IMAGE_FORMATS:
                    raise UnprocessableMedia(
                        f"{param} is a {fmt or 'unknown'} image; allowed: "
                        f"{', '.join(sorted(IMAGE_FORMATS))}",
                        code="invalid_reference.format", param=param, reference_index=index,
                    )  # fmt: skip
                if w * h > MAX_IMAGE_PIXELS:
                    raise UnprocessableMedia(
                        f"{param} is {w}x{h} pixels; at most {MAX_IMAGE_PIXELS} pixels are "
                        "decoded", code="invalid_reference.image_too_many_pixels",
                        param=param, reference_index=index,
                    )  # fmt: skip
                img.load()  # decode once: a truncated file fails here, not in the worker
    except UnprocessableMedia:
        raise
    except Exception as exc:
        raise UnprocessableMedia(
            f"{param} could not be decoded as an image: {exc}",
            code="invalid_reference.undecodable", param=param, reference_index=index,
        ) from exc  # fmt: skip
    return ProbeResult(ReferenceKind.IMAGE, IMAGE_FORMATS[fmt], width=w, height=h)


def _probe_av(path: Path, kind: ReferenceKind, *, param: str, index: int) -> ProbeResult:
    import av

    try:
        with av.open(str(path), mode="r", metadata_errors="ignore") as container:
            fmt = container.format.name
            if kind is ReferenceKind.VIDEO:
                return _video_info(container, fmt, param=param, index=index)
            return _audio_info(container, fmt, param=param, index=index)
    except UnprocessableMedia:
        raise
    except Exception as exc:
        raise UnprocessableMedia(
            f"{param} could not be read as {kind.value}: {exc}",
            code="invalid_reference.undecodable", param=param, reference_index=index,
        ) from exc  # fmt: skip


def _duration(container: object, stream: object) -> float | None:
    dur = getattr(stream, "duration", None)
    tb = getattr(stream, "time_base", None)
    if dur is not None and tb is not None:
        return float(dur * tb)
    cdur = getattr(container, "duration", None)
    return float(cdur) / 1_000_000 if cdur else None


def _video_info(container: object, fmt: str, *, param: str, index: int) -> ProbeResult:
    if fmt not in VIDEO_CONTAINERS:
        raise UnprocessableMedia(
            f"{param} is a {fmt} container; allowed: MP4, MOV",
            code="invalid_reference.format", param=param, reference_index=index,
        )  # fmt: skip
    streams = container.streams  # type: ignore[attr-defined]
    if not streams.video:
        raise UnprocessableMedia(
            f"{param} has no video stream", code="invalid_reference.no_video_stream",
            param=param, reference_index=index,
        )  # fmt: skip
    vs = streams.video[0]
    codec = vs.codec_context.name
    if codec not in VIDEO_CODECS:
        raise UnprocessableMedia(
            f"{param} uses the {codec} codec; allowed: {', '.join(sorted(VIDEO_CODECS))}",
            code="invalid_reference.codec", param=param, reference_index=index,
        )  # fmt: skip
    fps = float(vs.average_rate) if vs.average_rate else None
    return ProbeResult(
        ReferenceKind.VIDEO, "video/mp4", width=vs.codec_context.width,
        height=vs.codec_context.height, seconds=_duration(container, vs), fps=fps,
        has_audio=bool(streams.audio),
    )  # fmt: skip


def _audio_info(container: object, fmt: str, *, param: str, index: int) -> ProbeResult:
    if fmt not in AUDIO_CONTAINERS:
        raise UnprocessableMedia(
            f"{param} is a {fmt} file; allowed: MP3, WAV",
            code="invalid_reference.format", param=param, reference_index=index,
        )  # fmt: skip
    streams = container.streams  # type: ignore[attr-defined]
    if not streams.audio:
        raise UnprocessableMedia(
            f"{param} has no audio stream", code="invalid_reference.no_audio_stream",
            param=param, reference_index=index,
        )  # fmt: skip
    return ProbeResult(
        ReferenceKind.AUDIO, AUDIO_CONTAINERS[fmt],
        seconds=_duration(container, streams.audio[0]), has_audio=True,
    )  # fmt: skip
