"""Probe a media file: container, streams, size, rate, frame count and duration."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import av.error

from reelforge.errors import UnprocessableMedia


@dataclass(frozen=True)
class MediaInfo:
    format_name: str  # FFmpeg demuxer name, e.g. "mov,mp4,m4a,3gp,3g2,mj2"
    duration: float | None  # seconds, the container's (longest stream)
    has_video: bool
    video_codec: str | None
    width: int | None
    height: int | None
    fps: float | None  # average frame rate
    frame_count: int | None
    video_duration: float | None
    has_audio: bool
    audio_codec: str | None
    audio_channels: int | None
    sample_rate: int | None
    audio_duration: float | None
    codec_tag: str | None = None  # e.g. "avc1", "hvc1"


def probe_media(path: Path | str, count_frames: bool = True) -> MediaInfo:
    """Read the headers of a media file (and, when the container does not say how many frames
    the video has and `count_frames` is true, count them by demuxing, which decodes nothing)."""
    name = Path(path).name
    try:
        container = av.open(str(path))
    except (av.error.FFmpegError, OSError) as exc:
        raise UnprocessableMedia(f"cannot open media {name}: {exc}") from exc
    with container:
        format_name = container.format.name
        duration = container.duration / av.time_base if container.duration else None
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        v_codec = width = height = fps = frames = v_dur = tag = None
        if video is not None:
            ctx = video.codec_context
            v_codec, width, height = ctx.name, ctx.width, ctx.height
            rate = video.average_rate or video.guessed_rate
            fps = float(rate) if rate else None
            frames = video.frames or None
            tag = video.codec_tag or None
            if video.duration is not None and video.time_base is not None:
                v_dur = float(video.duration * video.time_base)
        a_codec = channels = rate_hz = a_dur = None
        if audio is not None:
            actx = audio.codec_context
            a_codec, channels, rate_hz = actx.name, actx.channels, actx.sample_rate
            if audio.duration is not None and audio.time_base is not None:
                a_dur = float(audio.duration * audio.time_base)
        if video is not None and frames is None and count_frames:
            frames = _count_packets(container, video.index, name)
    return MediaInfo(
        format_name=format_name,
        duration=duration,
        has_video=video is not None,
        video_codec=v_codec,
        width=width,
        height=height,
        fps=fps,
        frame_count=frames,
        video_duration=v_dur,
        has_audio=audio is not None,
        audio_codec=a_codec,
        audio_channels=channels,
        sample_rate=rate_hz,
        audio_duration=a_dur,
        codec_tag=tag,
    )


def _count_packets(container: av.container.InputContainer, index: int, name: str) -> int:
    try:
        stream = container.streams[index]
        return sum(1 for p in container.demux(stream) if p.size and p.stream.index == index)
    except av.error.FFmpegError as exc:
        raise UnprocessableMedia(f"cannot read media {name}: {exc}") from exc
