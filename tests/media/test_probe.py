from __future__ import annotations

from pathlib import Path

import pytest

from reelforge.errors import UnprocessableMedia
from reelforge.media.probe import probe_media
from tests.media_helpers import write_test_video, write_tone_wav


def test_probe_video_without_audio(tmp_path: Path) -> None:
    info = probe_media(write_test_video(tmp_path / "v.mp4", 320, 240, frames=15, fps=30))
    assert info.has_video and not info.has_audio
    assert (info.video_codec, info.width, info.height) == ("h264", 320, 240)
    assert info.fps == 30.0 and info.frame_count == 15
    assert info.duration == pytest.approx(0.5, abs=0.02)
    assert info.audio_codec is None and info.sample_rate is None


def test_probe_audio_only(tmp_path: Path) -> None:
    info = probe_media(write_tone_wav(tmp_path / "a.wav", seconds=1.5, rate=44_100, channels=2))
    assert not info.has_video and info.has_audio
    assert info.format_name == "wav"
    assert (info.audio_codec, info.audio_channels, info.sample_rate) == ("pcm_s16le", 2, 44_100)
    assert info.duration == pytest.approx(1.5, abs=0.01)
    assert info.frame_count is None


def test_probe_garbage(tmp_path: Path) -> None:
    (tmp_path / "x.mp4").write_bytes(b"garbage" * 100)
    with pytest.raises(UnprocessableMedia):
        probe_media(tmp_path / "x.mp4")
