"""The canonical generation request every dialect parses into.

Frozen dataclasses and enums only; pydantic stays at the HTTP edge.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Resolution(StrEnum):
    P480 = "480p"
    P720 = "720p"
    P1080 = "1080p"
    P2160 = "2160p"  # 4K UHD: 3840x2160 at 16:9; past the hosted services (native API only)

    @property
    def short_side(self) -> int:
        return int(self.value[:-1])


# What the hosted services offer: the vendor dialects and an engine without limits of its own.
HOSTED_RESOLUTIONS = (Resolution.P480, Resolution.P720, Resolution.P1080)


class AspectRatio(StrEnum):
    AUTO = "auto"
    R21_9 = "21:9"
    R16_9 = "16:9"
    R4_3 = "4:3"
    R1_1 = "1:1"
    R3_4 = "3:4"
    R9_16 = "9:16"

    @property
    def ratio(self) -> float:
        if self is AspectRatio.AUTO:
            raise ValueError("auto has no fixed ratio")
        w, h = self.value.split(":")
        return int(w) / int(h)


class Codec(StrEnum):
    H264 = "h264"
    H265 = "h265"
    # With `alpha: true` only: the subjects on a transparent background, for compositing.
    PRORES_4444 = "prores_4444"  # QuickTime .mov, yuva444p10le, AAC
    VP9 = "vp9"  # WebM, yuva420p, Opus

    @property
    def alpha(self) -> bool:
        """Whether this codec carries an alpha channel (and only then is it allowed)."""
        return self in (Codec.PRORES_4444, Codec.VP9)

    @property
    def container(self) -> str:
        return {Codec.PRORES_4444: "mov", Codec.VP9: "webm"}.get(self, "mp4")


class ReferenceKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


class ReferenceRole(StrEnum):
    REFERENCE = "reference"
    FIRST_FRAME = "first_frame"
    LAST_FRAME = "last_frame"


FPS = 24
MIN_SECONDS = 1
MAX_SECONDS = 15  # the hosted services' longest clip (and every vendor dialect's)
# The native API's longest clip: past MAX_SECONDS by planned continuation, on the engines whose
# limits allow it (`EngineLimits.max_seconds`).
MAX_CONTINUATION_SECONDS = 60
DEFAULT_SECONDS = 5


def output_size(resolution: Resolution, aspect: AspectRatio) -> tuple[int, int]:
    """(width, height) of the output: the resolution names the short side, the long side is
    short x ratio rounded to an even number (the table in API.md)."""
    short = resolution.short_side
    ratio = aspect.ratio
    if ratio >= 1:
        long_side = _even(short * ratio)
        return long_side, short
    long_side = _even(short / ratio)
    return short, long_side


def _even(x: float) -> int:
    return round(x / 2.0) * 2


def nearest_aspect(width: int, height: int) -> AspectRatio:
    """The fixed aspect ratio nearest to a picture's shape (for `auto`)."""
    target = width / height
    fixed = [a for a in AspectRatio if a is not AspectRatio.AUTO]
    return min(fixed, key=lambda a: abs(_log_ratio(a.ratio) - _log_ratio(target)))


def _log_ratio(r: float) -> float:
    import math

    return math.log(r)


def parse_size(size: str) -> tuple[Resolution, AspectRatio] | None:
    """`"1280x720"` -> (720p, 16:9) when it is one of the sizes of the table or of `EXACT_SIZES`,
    else None. For an `EXACT_SIZES` entry the pair is the nearest table size (its price class
    and engine-limit class); `exact_size` gives the pixels to render."""
    for res in Resolution:
        for asp in AspectRatio:
            if asp is AspectRatio.AUTO:
                continue
            w, h = output_size(res, asp)
            if size == f"{w}x{h}":
                return res, asp
    parsed = _pixels(size)
    return EXACT_SIZES.get(parsed) if parsed else None


# Sizes outside the resolution x ratio table that are rendered at exactly these pixels: the
# OpenAI Videos API's (`VideoSize`: 720x1280, 1280x720 are in the table; these two are not).
# Each is priced and limit-checked as the table size nearest to it (1024 short side -> 1080p).
EXACT_SIZES: dict[tuple[int, int], tuple[Resolution, AspectRatio]] = {
    (1792, 1024): (Resolution.P1080, AspectRatio.R16_9),
    (1024, 1792): (Resolution.P1080, AspectRatio.R9_16),
}


def exact_size(size: str) -> tuple[int, int] | None:
    """The pixels of a size that is not in the table but rendered exactly (`EXACT_SIZES`)."""
    parsed = _pixels(size)
    return parsed if parsed in EXACT_SIZES else None


def _pixels(size: str) -> tuple[int, int] | None:
    w, sep, h = size.strip().lower().partition("x")
    if not sep or not w.isdigit() or not h.isdigit():
        return None
    return int(w), int(h)


@dataclass(frozen=True)
class ReferenceInput:
    """One reference as the client named it, before intake fetched or decoded it.

    Exactly one of `url`, `file_id` or `data` is set. `data` is raw bytes already decoded from
    base64 or taken from a multipart upload.
    """

    kind: ReferenceKind
    role: ReferenceRole = ReferenceRole.REFERENCE
    url: str | None = None
    file_id: str | None = None
    data: bytes | None = None
    filename: str | None = None
    mime_type: str | None = None


@dataclass(frozen=True)
class FieldWarning:
    """A request field accepted but not honoured as asked (its vendor's SDK always sends it);
    `Submissions` copies it onto the job as a `core.job.JobWarning`."""

    code: str
    message: str
    param: str | None = None


@dataclass(frozen=True)
class GenerationSpec:
    """What to render, independent of the dialect it arrived in."""

    prompt: str
    model: str
    seconds: int | None = DEFAULT_SECONDS  # None = auto
    resolution: Resolution = Resolution.P720
    aspect_ratio: AspectRatio = AspectRatio.R16_9
    references: tuple[ReferenceInput, ...] = ()
    generate_audio: bool = True
    seed: int | None = None
    codec: Codec = Codec.H264
    return_last_frame: bool = False
    webhook_url: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    end_user_id: str | None = None
    execution_expires_after: int | None = None  # seconds a job may wait in the queue
    dialect: str = "native"  # the wire dialect it arrived in: shapes its webhook bodies
    webhook_progress: bool = False  # also send `video.progress` events (start, 25/50/75 %)
    warnings: tuple[FieldWarning, ...] = ()  # fields accepted but not honoured (strict_fields)
    # Exact output pixels (width, height) when the client named a size outside the table (an
    # `EXACT_SIZES` one, or a remix keeping its source's); None: `output_size(resolution, ...)`.
    size: tuple[int, int] | None = None
    # The subjects on a transparent background; only with an alpha codec (prores_4444, vp9).
    alpha: bool = False
