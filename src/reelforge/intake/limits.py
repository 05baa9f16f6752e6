"""Reference limits (API.md 'Limits'); each one configurable, each with its own error code."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_images: int = 9
    max_videos: int = 3
    max_audios: int = 3
    max_references: int = 12
    max_image_bytes: int = 30 * 1024 * 1024
    max_video_bytes_total: int = 50 * 1024 * 1024
    max_audio_bytes: int = 15 * 1024 * 1024
    max_prompt_chars: int = 8000
    fetch_timeout_seconds: float = 20.0
    max_redirects: int = 3
