from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from reelforge.media.decode import load_image
from reelforge.media.encode import FrameMismatch, encode_mp4, write_jpeg, write_png
from reelforge.media.probe import probe_media
from reelforge.media.types import AudioTrack, EngineCanceled
from reelforge.spec import AspectRatio, Codec, Resolution, output_size
from tests.media_helpers import Flag, decode_frames, moving_frames, video_packets


def _tone(seconds: float) -> AudioTrack:
    t = np.arange(round(seconds * 48_000)) / 48_000
    wave = (0.3 * np.sin(2 * np.pi * 330 * t)).astype(np.float32)
    return AudioTrack(np.stack([wave, wave]))


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


@pytest.mark.parametrize(
    ("resolution", "aspect", "frames"),
    [
        (Resolution.P480, AspectRatio.R16_9, 24),
        (Resolution.P480, AspectRatio.R9_16, 24),
        (Resolution.P480, AspectRatio.R1_1, 24),
        (Resolution.P480, AspectRatio.R21_9, 24),
        (Resolution.P720, AspectRatio.R4_3, 12),
        (Resolution.P1080, AspectRatio.R9_16, 6),
    ],
)
def test_size_rate_and_count_are_exact(
    tmp_path: Path, resolution: Resolution, aspect: AspectRatio, frames: int
) -> None:
    width, height = output_size(resolution, aspect)
    path = tmp_path / "out.mp4"
    result = encode_mp4(
        path,
        moving_frames(width, height, frames),
        width=width,
        height=height,
        num_frames=frames,
        codec=Codec.H264,
        audio=None,
    )
    info = probe_media(path)
    assert (info.width, info.height) == (width, height)
    assert info.video_codec == "h264" and info.codec_tag == "avc1"
    assert info.fps == 24.0
    assert info.frame_count == frames == result.frames_written
    assert info.video_duration == pytest.approx(frames / 24, abs=1e-6)
    assert info.duration == pytest.approx(frames / 24, abs=1e-3)
    assert not info.has_audio
    assert len(decode_frames(path)) == frames
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("codec", "name", "tag"), [(Codec.H264, "h264", "avc1"), (Codec.H265, "hevc", "hvc1")]
)
def test_codecs_with_aac(tmp_path: Path, codec: Codec, name: str, tag: str) -> None:
    path = tmp_path / "out.mp4"
    encode_mp4(
        path,
        moving_frames(640, 480, 30),
        width=640,
        height=480,
        num_frames=30,
        codec=codec,
        audio=_tone(3.0),
    )
    info = probe_media(path)
    assert info.format_name.startswith("mov,mp4")
    assert (info.video_codec, info.codec_tag) == (name, tag)
    assert (info.audio_codec, info.audio_channels, info.sample_rate) == ("aac", 2, 48_000)
    # Audio is cut to exactly the video duration (a 3 s tone under a 1.25 s video).
    assert info.audio_duration == pytest.approx(30 / 24, abs=1e-3)
    assert info.duration == pytest.approx(30 / 24, abs=1e-3)


def test_short_mono_audio_is_padded_and_widened(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    mono = AudioTrack(_tone(0.5).samples[:1])
    encode_mp4(
        path,
        moving_frames(320, 240, 24),
        width=320,
        height=240,
        num_frames=24,
        codec=Codec.H264,
        audio=mono,
    )
    info = probe_media(path)
    assert info.audio_channels == 2
    assert info.audio_duration == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("codec", [Codec.H264, Codec.H265])
def test_deterministic_bytes_whatever_the_frame_pace(tmp_path: Path, codec: Codec) -> None:
    frames = moving_frames(480, 270, 24)

    def unevenly_paced() -> Iterator[np.ndarray]:
        # A renderer hands frames over at its own pace and churns memory in between; the
        # bytes must depend on neither.
        for i, frame in enumerate(frames):
            time.sleep(0.004 * (i % 3))
            _churn = [bytes(200_000 + i) for _ in range(3)]
            yield frame

    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    encode_mp4(a, iter(frames), width=480, height=270, num_frames=24, codec=codec, audio=_tone(1.0))
    encode_mp4(
        b, unevenly_paced(), width=480, height=270, num_frames=24, codec=codec, audio=_tone(1.0)
    )
    assert video_packets(a) == video_packets(b)
    assert a.read_bytes() == b.read_bytes()


def test_result_carries_thumbnail_last_frame_and_progress(tmp_path: Path) -> None:
    frames = moving_frames(320, 240, 10)
    seen: list[float] = []
    result = encode_mp4(
        tmp_path / "o.mp4",
        frames,
        width=320,
        height=240,
        num_frames=10,
        codec=Codec.H264,
        audio=None,
        progress=seen.append,
    )
    assert np.array_equal(result.thumbnail, frames[5])
    assert np.array_equal(result.last_frame, frames[9])
    assert result.seconds == pytest.approx(10 / 24)
    assert result.size_bytes == (tmp_path / "o.mp4").stat().st_size
    assert seen == [(i + 1) / 10 for i in range(10)]


def test_wrong_shape_raises_and_leaves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    frames = moving_frames(320, 240, 5)
    frames[3] = np.zeros((240, 322, 3), np.uint8)
    with pytest.raises(FrameMismatch, match="frame 3"):
        encode_mp4(path, frames, width=320, height=240, num_frames=5, codec=Codec.H264, audio=None)
    assert not path.exists() and _leftovers(tmp_path) == []


@pytest.mark.parametrize("given", [4, 6])
def test_wrong_count_raises(tmp_path: Path, given: int) -> None:
    path = tmp_path / "out.mp4"
    with pytest.raises(FrameMismatch):
        encode_mp4(
            path,
            moving_frames(160, 120, given),
            width=160,
            height=120,
            num_frames=5,
            codec=Codec.H264,
            audio=None,
        )
    assert not path.exists() and _leftovers(tmp_path) == []


def test_error_keeps_the_previous_file_intact(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    path.write_bytes(b"previous result")

    def broken() -> Iterator[np.ndarray]:
        yield np.zeros((120, 160, 3), np.uint8)
        raise RuntimeError("engine blew up")

    with pytest.raises(RuntimeError, match="blew up"):
        encode_mp4(
            path, broken(), width=160, height=120, num_frames=3, codec=Codec.H264, audio=_tone(1.0)
        )
    assert path.read_bytes() == b"previous result"
    assert _leftovers(tmp_path) == []


def test_cancel_between_frames(tmp_path: Path) -> None:
    path = tmp_path / "out.mp4"
    closed: list[bool] = []

    def frames() -> Iterator[np.ndarray]:
        try:
            yield from moving_frames(160, 120, 20)
        finally:
            closed.append(True)

    token = Flag(after=7)
    with pytest.raises(EngineCanceled):
        encode_mp4(
            path,
            frames(),
            width=160,
            height=120,
            num_frames=20,
            codec=Codec.H264,
            audio=None,
            cancel=token,
        )
    assert token.checks == 8
    assert closed == [True]  # the frame generator was closed, so its cleanup ran
    assert not path.exists() and _leftovers(tmp_path) == []


@pytest.mark.parametrize(("width", "height", "frames"), [(321, 240, 1), (320, 0, 1), (320, 240, 0)])
def test_bad_arguments(tmp_path: Path, width: int, height: int, frames: int) -> None:
    with pytest.raises(ValueError):
        encode_mp4(
            tmp_path / "o.mp4",
            [],
            width=width,
            height=height,
            num_frames=frames,
            codec=Codec.H264,
            audio=None,
        )


def test_stills_round_trip(tmp_path: Path) -> None:
    frame = moving_frames(64, 48, 1)[0]
    png = write_png(tmp_path / "still.png", frame)
    assert np.array_equal(load_image(png), frame)
    jpg = write_jpeg(tmp_path / "still.jpg", frame)
    assert load_image(jpg).shape == (48, 64, 3)
    assert _leftovers(tmp_path) == []
    with pytest.raises(ValueError):
        write_png(tmp_path / "bad.png", frame[:, :, 0])
