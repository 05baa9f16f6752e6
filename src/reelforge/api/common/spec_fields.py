"""Field parsing shared by every dialect: seconds, size/resolution/aspect, codec, booleans.

Each dialect maps its own field names onto these; the checks and their error codes live once.
"""

from __future__ import annotations

from typing import Any

from reelforge import codes
from reelforge.errors import InvalidRequest
from reelforge.spec import (
    HOSTED_RESOLUTIONS,
    MAX_SECONDS,
    MIN_SECONDS,
    AspectRatio,
    Codec,
    Resolution,
    parse_size,
)


def parse_seconds(value: Any, param: str = "seconds", most: int = MAX_SECONDS) -> int | None:
    """`"auto"`, -1, None -> None (auto); "5", 5, 5.0 -> 5. `most`: the dialect's longest clip
    (the vendors' 15 s; the native API's planned continuation goes further)."""
    if value is None or value == "auto" or value == -1 or value == "-1":
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise InvalidRequest(
            f"{param} is {value!r}; it must be a whole number of seconds "
            f"{MIN_SECONDS}..{most} or 'auto'",
            code=codes.INVALID_REQUEST_SECONDS,
            param=param,
        ) from None
    if not seconds.is_integer() or not MIN_SECONDS <= seconds <= most:
        raise InvalidRequest(
            f"{param} is {value!r}; it must be a whole number of seconds "
            f"{MIN_SECONDS}..{most} or 'auto'",
            code=codes.INVALID_REQUEST_SECONDS,
            param=param,
        )
    return int(seconds)


def parse_resolution(
    value: Any, param: str = "resolution", allowed: tuple[Resolution, ...] = HOSTED_RESOLUTIONS
) -> Resolution:
    """`allowed`: the dialect's resolutions (the vendors' 480p..1080p; the native API adds
    2160p)."""
    text = str(value).strip().lower()
    aliases = {"480": "480p", "720": "720p", "1080": "1080p", "sd": "480p", "hd": "720p",
               "fhd": "1080p", "full_hd": "1080p"}  # fmt: skip
    text = aliases.get(text, text)
    try:
        resolution = Resolution(text)
    except ValueError:
        resolution = None
    if resolution is None or resolution not in allowed:
        raise InvalidRequest(
            f"{param} is {value!r}; allowed: {', '.join(r.value for r in allowed)}",
            code=codes.INVALID_REQUEST_RESOLUTION, param=param,
        )  # fmt: skip
    return resolution


def parse_aspect(value: Any, param: str = "aspect_ratio") -> AspectRatio:
    text = str(value).strip().lower()
    if text in ("adaptive", "auto"):
        return AspectRatio.AUTO
    try:
        return AspectRatio(text)
    except ValueError:
        raise InvalidRequest(
            f"{param} is {value!r}; allowed: {', '.join(a.value for a in AspectRatio)}",
            code=codes.INVALID_REQUEST_ASPECT_RATIO, param=param,
        ) from None  # fmt: skip


def parse_size_field(
    value: str, param: str = "size", allowed: tuple[Resolution, ...] = HOSTED_RESOLUTIONS
) -> tuple[Resolution, AspectRatio]:
    parsed = parse_size(value.strip().lower())
    if parsed is None or parsed[0] not in allowed:
        raise InvalidRequest(
            f"{param} is {value!r}; it must be one of the output sizes such as 1280x720, "
            "720x1280, 1920x1080 or 480x480 (see the size table)",
            code=codes.INVALID_REQUEST_SIZE, param=param,
        )  # fmt: skip
    return parsed


def parse_codec(value: Any, param: str = "codec") -> Codec:
    text = str(value).strip().lower()
    text = {"avc": "h264", "h.264": "h264", "hevc": "h265", "h.265": "h265",
            "prores": "prores_4444", "prores4444": "prores_4444"}.get(text, text)  # fmt: skip
    try:
        return Codec(text)
    except ValueError:
        raise InvalidRequest(
            f"{param} is {value!r}; allowed: h264, h265 (MP4), and with alpha: true "
            "prores_4444 (.mov) or vp9 (.webm)",
            code=codes.INVALID_REQUEST_CODEC,
            param=param,
        ) from None


def parse_bool(value: Any, param: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off"):
        return False
    raise InvalidRequest(f"{param} is {value!r}; it must be true or false", param=param)


def parse_seed(value: Any, param: str = "seed") -> int | None:
    if value is None or value == "" or value == -1:
        return None
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise InvalidRequest(
            f"{param} is {value!r}; it must be an integer",
            code=codes.INVALID_REQUEST_SEED,
            param=param,
        ) from None
