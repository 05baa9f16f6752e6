"""The media layer: decode references, encode and mux outputs, probe files, build soundtracks.

Knows PyAV/FFmpeg and Pillow; knows nothing of jobs or engines' internals.
"""

from reelforge.media.audio import fit_duration, normalize_loudness, procedural_ambience
from reelforge.media.decode import iter_video_frames, load_audio, load_image
from reelforge.media.encode import (
    EncodeResult,
    FrameMismatch,
    encode_mp4,
    write_jpeg,
    write_png,
)
from reelforge.media.probe import MediaInfo, probe_media

__all__ = [
    "EncodeResult",
    "FrameMismatch",
    "MediaInfo",
    "encode_mp4",
    "fit_duration",
    "iter_video_frames",
    "load_audio",
    "load_image",
    "normalize_loudness",
    "probe_media",
    "procedural_ambience",
    "write_jpeg",
    "write_png",
]
