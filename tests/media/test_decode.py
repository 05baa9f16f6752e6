from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from reelforge.errors import UnprocessableMedia
from reelforge.media.decode import iter_video_frames, load_audio, load_image
from tests.media_helpers import studio_figure, write_test_video, write_tone_wav


def test_load_image_rgb_uint8(tmp_path: Path) -> None:
    rgb = studio_figure(320, 240)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png")
    assert out.dtype == np.uint8 and out.shape == (240, 320, 3)
    assert np.array_equal(out, rgb)


def test_load_image_applies_exif_orientation(tmp_path: Path) -> None:
    rgb = np.zeros((100, 200, 3), np.uint8)
    rgb[:, :100] = (255, 0, 0)  # left half red
    img = Image.fromarray(rgb)
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to view"
    img.save(tmp_path / "rot.jpg", exif=exif, quality=95)
    out = load_image(tmp_path / "rot.jpg")
    assert out.shape == (200, 100, 3)
    assert out[10, 50, 0] > 200 and out[190, 50, 0] < 60  # red on top after rotation


def test_load_image_flattens_transparency(tmp_path: Path) -> None:
    rgba = np.zeros((50, 50, 4), np.uint8)
    rgba[10:40, 10:40] = (255, 0, 0, 255)
    Image.fromarray(rgba).save(tmp_path / "t.png")
    out = load_image(tmp_path / "t.png")
    assert out.shape == (50, 50, 3)
    assert tuple(out[0, 0]) == (127, 127, 127) and tuple(out[25, 25]) == (255, 0, 0)


def test_load_image_garbage_is_unprocessable(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(b"not an image at all")
    with pytest.raises(UnprocessableMedia):
        load_image(tmp_path / "x.png")


def test_load_image_pixel_bomb_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    Image.fromarray(np.zeros((300, 300, 3), np.uint8)).save(tmp_path / "big.png")
    # Pillow's own guard, lowered so the test file can stay small.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)
    with pytest.raises(UnprocessableMedia) as info:
        load_image(tmp_path / "big.png")
    assert info.value.code == "invalid_reference.too_many_pixels"


def test_iter_video_frames_sizes_and_limit(tmp_path: Path) -> None:
    path = write_test_video(tmp_path / "v.mp4", 320, 240, frames=12)
    frames = list(iter_video_frames(path))
    assert len(frames) == 12 and frames[0].shape == (240, 320, 3) and frames[0].dtype == np.uint8
    small = list(iter_video_frames(path, width=160, max_frames=5))
    assert len(small) == 5 and small[0].shape == (120, 160, 3)
    both = next(iter(iter_video_frames(path, width=100, height=50)))
    assert both.shape == (50, 100, 3)


def test_iter_video_frames_garbage(tmp_path: Path) -> None:
    (tmp_path / "v.mp4").write_bytes(b"\x00" * 1000)
    with pytest.raises(UnprocessableMedia):
        list(iter_video_frames(tmp_path / "v.mp4"))


def test_load_audio_resamples_to_stereo_48k(tmp_path: Path) -> None:
    path = write_tone_wav(tmp_path / "a.wav", seconds=2.0, rate=44_100, channels=1)
    track = load_audio(path)
    assert track.sample_rate == 48_000
    assert track.samples.dtype == np.float32 and track.samples.shape[0] == 2
    assert abs(track.seconds - 2.0) < 0.01
    assert np.allclose(track.samples[0], track.samples[1])
    assert 0.3 < float(np.abs(track.samples).max()) < 0.6
    short = load_audio(path, sample_rate=16_000, channels=1, max_seconds=0.5)
    assert short.samples.shape == (1, 8000)


def test_load_audio_without_audio_stream(tmp_path: Path) -> None:
    path = write_test_video(tmp_path / "v.mp4", 64, 48, frames=3)
    with pytest.raises(UnprocessableMedia):
        load_audio(path)
