"""Beat tracking in numpy on click tracks with known beats, and no beats where there is no pulse."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from reelforge.media.audio import procedural_ambience
from reelforge.media.beats import analyse_beats, soundtrack_beats
from reelforge.media.types import AudioTrack
from tests.media_helpers import click_track, write_wav


def _stereo(mono: np.ndarray, rate: int = 48_000) -> AudioTrack:
    return AudioTrack(np.stack([mono, mono]), rate)


@pytest.mark.parametrize(
    ("bpm", "offset"), [(90.0, 0.3), (100.0, 0.15), (128.0, 0.05), (150.0, 0.4)]
)
def test_click_track_tempo_and_beats(bpm: float, offset: float) -> None:
    rng = np.random.default_rng(0)
    mono = click_track(bpm, 8.0, offset) + 0.02 * rng.standard_normal(8 * 48_000).astype(np.float32)
    found = analyse_beats(_stereo(mono))
    truth = np.arange(offset, 8.0, 60.0 / bpm)
    assert found.tempo == pytest.approx(bpm, rel=0.01)
    assert len(found.beats) >= len(truth) - 1
    errors = [float(np.min(np.abs(truth - b))) for b in found.beats]
    assert max(errors) < 0.03 and float(np.mean(errors)) < 0.012
    onset_errors = [float(np.min(np.abs(np.array(found.onsets) - t))) for t in truth]
    assert max(onset_errors) < 0.03  # every click is an onset


def test_other_sample_rates() -> None:
    mono = click_track(120.0, 6.0, 0.1, rate=44_100)
    found = analyse_beats(_stereo(mono, 44_100))
    assert found.tempo == pytest.approx(120.0, rel=0.01)


@pytest.mark.parametrize("prompt", ["rain", "city traffic", "ocean waves"])
def test_no_pulse_no_beats(prompt: str) -> None:
    assert analyse_beats(procedural_ambience(prompt, 6.0, 1)).beats == ()


def test_a_held_tone_and_silence_have_no_beats() -> None:
    t = np.arange(3 * 48_000) / 48_000
    assert (
        analyse_beats(_stereo((0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32))).beats == ()
    )
    assert analyse_beats(_stereo(np.zeros(48_000, np.float32))).beats == ()


def test_soundtrack_beats_follow_the_loop(tmp_path: Path) -> None:
    # 2 s of clicks at 120 BPM from 0.25 s, looped under a 5 s clip: the beats go on.
    path = write_wav(tmp_path / "loop.wav", click_track(120.0, 2.0, 0.25))
    beats = soundtrack_beats(path, 5.0)
    assert beats[0] == pytest.approx(0.25, abs=0.03)
    assert max(beats) > 4.0 and all(b < 5.0 for b in beats)
