"""Media formats told apart by their magic bytes, and what a client declared (MIME type, file
name extension) mapped onto the same names.

Only the bytes decide what a file is; a declaration that contradicts them is refused rather than
believed. Formats that are recognised but never accepted (Matroska, AVI, HEIC, Ogg, ...) are
named here too, so an error can say what the file is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from reelforge.spec import ReferenceKind

IMAGE, VIDEO, AUDIO = ReferenceKind.IMAGE, ReferenceKind.VIDEO, ReferenceKind.AUDIO


@dataclass(frozen=True)
class MediaFormat:
    name: str  # "PNG", "MP4", ...: the names used in `Limits.*_formats`
    kind: ReferenceKind
    mime: str
    demuxer: str | None = None  # FFmpeg demuxer forced when opening it (video and audio)

    def same_as(self, other: MediaFormat) -> bool:
        """MP4 and MOV are one container family (ISO BMFF); everything else must match."""
        iso = {"MP4", "MOV"}
        return self.name == other.name or {self.name, other.name} <= iso


_ALL = (
    MediaFormat("JPEG", IMAGE, "image/jpeg"),
    MediaFormat("PNG", IMAGE, "image/png"),
    MediaFormat("WEBP", IMAGE, "image/webp"),
    MediaFormat("BMP", IMAGE, "image/bmp"),
    MediaFormat("TIFF", IMAGE, "image/tiff"),
    MediaFormat("GIF", IMAGE, "image/gif"),
    MediaFormat("HEIC", IMAGE, "image/heic"),
    MediaFormat("AVIF", IMAGE, "image/avif"),
    MediaFormat("MP4", VIDEO, "video/mp4", demuxer="mov"),
    MediaFormat("MOV", VIDEO, "video/quicktime", demuxer="mov"),
    MediaFormat("MKV", VIDEO, "video/x-matroska"),
    MediaFormat("AVI", VIDEO, "video/x-msvideo"),
    MediaFormat("MP3", AUDIO, "audio/mpeg", demuxer="mp3"),
    MediaFormat("WAV", AUDIO, "audio/wav", demuxer="wav"),
    MediaFormat("AAC", AUDIO, "audio/aac"),
    MediaFormat("M4A", AUDIO, "audio/mp4"),
    MediaFormat("OGG", AUDIO, "audio/ogg"),
    MediaFormat("FLAC", AUDIO, "audio/flac"),
)
FORMATS: dict[str, MediaFormat] = {f.name: f for f in _ALL}

_MIME_ALIASES = {
    "image/jpg": "JPEG", "image/pjpeg": "JPEG", "image/x-png": "PNG", "image/x-ms-bmp": "BMP",
    "image/x-bmp": "BMP", "image/tif": "TIFF", "image/heif": "HEIC", "video/x-m4v": "MP4",
    "audio/mp3": "MP3", "audio/x-mp3": "MP3", "audio/mpeg3": "MP3", "audio/x-mpeg": "MP3",
    "audio/x-wav": "WAV", "audio/wave": "WAV", "audio/vnd.wave": "WAV", "audio/x-m4a": "M4A",
    "audio/x-flac": "FLAC", "video/webm": "MKV", "audio/webm": "MKV",
}  # fmt: skip
_EXTENSIONS = {
    "jpg": "JPEG", "jpeg": "JPEG", "jpe": "JPEG", "jfif": "JPEG", "png": "PNG", "webp": "WEBP",
    "bmp": "BMP", "dib": "BMP", "tif": "TIFF", "tiff": "TIFF", "gif": "GIF", "heic": "HEIC",
    "heif": "HEIC", "avif": "AVIF", "mp4": "MP4", "m4v": "MP4", "mov": "MOV", "qt": "MOV",
    "mkv": "MKV", "webm": "MKV", "avi": "AVI", "mp3": "MP3", "wav": "WAV", "wave": "WAV",
    "aac": "AAC", "m4a": "M4A", "ogg": "OGG", "oga": "OGG", "opus": "OGG", "flac": "FLAC",
}  # fmt: skip
_BMP_HEADER_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}

SNIFF_BYTES = 64


def sniff_format(head: bytes) -> MediaFormat | None:
    """The format of a file from its first bytes (`SNIFF_BYTES` are enough), or None."""
    name = _sniff_name(head)
    return FORMATS[name] if name else None


def _sniff_name(head: bytes) -> str | None:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if head.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "GIF"
    if head[:4] == b"RIFF":
        return {b"WEBP": "WEBP", b"WAVE": "WAV", b"AVI ": "AVI"}.get(head[8:12])
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "TIFF"
    # BMP: the DIB header size at byte 14 (4 bytes; the first 2 suffice for the known sizes)
    if head.startswith(b"BM") and int.from_bytes(head[14:18], "little") in _BMP_HEADER_SIZES:
        return "BMP"
    if head[4:8] == b"ftyp":
        return _iso_brand(head[8:12])
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return "MOV"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "MKV"
    if head.startswith(b"OggS"):
        return "OGG"
    if head.startswith(b"fLaC"):
        return "FLAC"
    if head.startswith(b"ID3"):
        return "MP3"
    return _mpeg_audio(head)


def _iso_brand(brand: bytes) -> str:
    if brand == b"qt  ":
        return "MOV"
    if brand in (b"M4A ", b"M4B "):
        return "M4A"
    if brand in _HEIF_BRANDS:
        return "HEIC"
    if brand in (b"avif", b"avis"):
        return "AVIF"
    return "MP4"


def _mpeg_audio(head: bytes) -> str | None:
    """A bare MPEG audio frame header (no ID3 tag): layer III (or I/II) is MP3, layer 0 ADTS."""
    if len(head) < 4 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return None
    version, layer = (head[1] >> 3) & 3, (head[1] >> 1) & 3
    if layer == 0:
        return "AAC" if head[1] & 0xF6 == 0xF0 else None
    bitrate, rate = head[2] >> 4, (head[2] >> 2) & 3
    if version == 1 or bitrate in (0, 15) or rate == 3:
        return None
    return "MP3"


def declared_by_mime(mime: str | None) -> MediaFormat | None:
    """The format a MIME type names, or None when it names none we know (octet-stream, ...)."""
    if not mime:
        return None
    base = mime.split(";", 1)[0].strip().lower()
    for fmt in _ALL:
        if fmt.mime == base:
            return fmt
    alias = _MIME_ALIASES.get(base)
    return FORMATS[alias] if alias else None


def declared_by_filename(filename: str | None) -> MediaFormat | None:
    """The format a file name's extension names, or None."""
    if not filename:
        return None
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lstrip(".").lower()
    name = _EXTENSIONS.get(suffix)
    return FORMATS[name] if name else None


def describe_head(head: bytes) -> str:
    """A short, safe rendering of unknown leading bytes for an error message."""
    text = head[:16]
    if text and all(32 <= b < 127 or b in (9, 10, 13) for b in text):
        return repr(text.decode("ascii"))
    return text.hex(" ") or "nothing"
