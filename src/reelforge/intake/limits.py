"""Reference limits (API.md 'Limits'); each one configurable, each with its own error code.

`Limits` is the frozen value the intake layer works with. `LimitsSettings` is its pydantic twin
inside `Settings` (`Settings.limits`), so every field can be set from the environment as
`REELFORGE_LIMITS__<FIELD>` (e.g. `REELFORGE_LIMITS__MAX_IMAGES=5`; tuples as JSON lists, e.g.
`REELFORGE_LIMITS__IMAGE_FORMATS='["JPEG","PNG"]'`). `docs/api/limits.md` lists every field with
its default and its error code.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, model_validator

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    # prompt
    max_prompt_tokens: int = 2000
    max_prompt_chars: int = 20000
    # counts
    max_references: int = 12
    max_images: int = 9
    max_videos: int = 3
    max_audios: int = 3
    audio_requires_visual: bool = True
    # bytes
    max_image_bytes: int = 30 * MIB
    max_video_bytes: int = 50 * MIB
    max_video_bytes_total: int = 50 * MIB
    max_audio_bytes: int = 15 * MIB
    # images
    min_image_side: int = 300
    max_image_side: int = 6000
    min_image_aspect: float = 0.4
    max_image_aspect: float = 2.5
    max_image_pixels: int = 6000 * 6000
    # videos
    min_video_seconds: float = 2.0
    max_video_seconds: float = 15.0
    max_video_seconds_total: float = 15.0
    min_video_pixels: int = 409_600
    max_video_pixels: int = 927_408
    min_video_fps: float = 24.0
    max_video_fps: float = 60.0
    # audio
    min_audio_seconds: float = 2.0
    max_audio_seconds: float = 15.0
    max_audio_seconds_total: float = 15.0
    # formats
    image_formats: tuple[str, ...] = ("JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF")
    video_formats: tuple[str, ...] = ("MP4", "MOV")
    video_codecs: tuple[str, ...] = ("h264", "hevc", "vp9", "av1", "mpeg4", "prores")
    video_audio_codecs: tuple[str, ...] = (
        "aac", "mp3", "opus", "alac", "ac3", "eac3", "flac",
        "pcm_s16le", "pcm_s16be", "pcm_s24le", "pcm_s24be", "pcm_s32le", "pcm_f32le",
    )  # fmt: skip
    audio_formats: tuple[str, ...] = ("MP3", "WAV")
    audio_codecs: tuple[str, ...] = (
        "mp3", "pcm_u8", "pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_f64le",
        "pcm_mulaw", "pcm_alaw",
    )  # fmt: skip
    max_streams: int = 8
    # probing and fetching
    duration_tolerance_seconds: float = 0.1
    probe_timeout_seconds: float = 10.0
    fetch_timeout_seconds: float = 20.0
    max_redirects: int = 3
    # request bodies and metadata (docs/api/limits.md "Request bodies", "Metadata")
    max_json_depth: int = 32
    max_metadata_keys: int = 16
    max_metadata_key_chars: int = 64
    max_metadata_value_chars: int = 512

    @property
    def max_video_frames(self) -> int:
        """Most frames one video reference may hold: its longest length at its highest rate."""
        seconds = self.max_video_seconds + self.duration_tolerance_seconds
        return int(seconds * self.max_video_fps) + 1


class LimitsSettings(BaseModel):
    """`Limits` as a settings section (`REELFORGE_LIMITS__<FIELD>`); same fields, same defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_prompt_tokens: int = Field(
        default=2000, gt=0, description="prompt tokens (see docs/api/limits)"
    )
    max_prompt_chars: int = Field(
        default=20000, gt=0, description="prompt characters, a cheap bound"
    )
    max_references: int = Field(default=12, ge=0, description="reference files in all")
    max_images: int = Field(default=9, ge=0)
    max_videos: int = Field(default=3, ge=0)
    max_audios: int = Field(default=3, ge=0)
    audio_requires_visual: bool = Field(default=True, description="audio needs an image or a video")
    max_image_bytes: int = Field(default=30 * MIB, gt=0)
    max_video_bytes: int = Field(default=50 * MIB, gt=0, description="bytes of one video")
    max_video_bytes_total: int = Field(default=50 * MIB, gt=0, description="bytes of all videos")
    max_audio_bytes: int = Field(default=15 * MIB, gt=0)
    min_image_side: int = Field(default=300, ge=1)
    max_image_side: int = Field(default=6000, ge=1)
    min_image_aspect: float = Field(default=0.4, gt=0, description="width / height")
    max_image_aspect: float = Field(default=2.5, gt=0, description="width / height")
    max_image_pixels: int = Field(
        default=6000 * 6000,
        gt=0,
        description="width x height read from the header; over it, no decode",
    )
    min_video_seconds: float = Field(default=2.0, ge=0)
    max_video_seconds: float = Field(default=15.0, gt=0)
    max_video_seconds_total: float = Field(default=15.0, gt=0)
    min_video_pixels: int = Field(default=409_600, ge=1, description="width x height of a frame")
    max_video_pixels: int = Field(default=927_408, ge=1)
    min_video_fps: float = Field(default=24.0, gt=0)
    max_video_fps: float = Field(default=60.0, gt=0)
    min_audio_seconds: float = Field(default=2.0, ge=0)
    max_audio_seconds: float = Field(default=15.0, gt=0)
    max_audio_seconds_total: float = Field(default=15.0, gt=0)
    image_formats: tuple[str, ...] = Limits.image_formats
    video_formats: tuple[str, ...] = Limits.video_formats
    video_codecs: tuple[str, ...] = Limits.video_codecs
    video_audio_codecs: tuple[str, ...] = Limits.video_audio_codecs
    audio_formats: tuple[str, ...] = Limits.audio_formats
    audio_codecs: tuple[str, ...] = Limits.audio_codecs
    max_streams: int = Field(
        default=8, ge=1, description="streams (tracks) in one video or audio file"
    )
    duration_tolerance_seconds: float = Field(
        default=0.1, ge=0, description="slack on every duration limit (container rounding, priming)"
    )
    probe_timeout_seconds: float = Field(
        default=10.0, gt=0, description="time to probe one reference"
    )
    fetch_timeout_seconds: float = Field(default=20.0, gt=0, description="time to fetch one URL")
    max_redirects: int = Field(default=3, ge=0)
    max_json_depth: int = Field(
        default=32, ge=2, le=256, description="arrays/objects nested in a request body"
    )
    max_metadata_keys: int = Field(default=16, ge=0, description="keys of a job's metadata")
    max_metadata_key_chars: int = Field(default=64, ge=1, description="characters of one key")
    max_metadata_value_chars: int = Field(
        default=512, ge=0, description="characters of one metadata value"
    )

    @model_validator(mode="after")
    def _ranges(self) -> LimitsSettings:
        pairs = [
            ("min_image_side", "max_image_side"),
            ("min_image_aspect", "max_image_aspect"),
            ("min_video_seconds", "max_video_seconds"),
            ("min_video_pixels", "max_video_pixels"),
            ("min_video_fps", "max_video_fps"),
            ("min_audio_seconds", "max_audio_seconds"),
        ]
        for low, high in pairs:
            if getattr(self, low) > getattr(self, high):
                raise ValueError(f"{low} ({getattr(self, low)}) exceeds {high}")
        return self

    def to_limits(self) -> Limits:
        return Limits(**self.model_dump())


LIMIT_FIELDS = tuple(f.name for f in dataclasses.fields(Limits))
