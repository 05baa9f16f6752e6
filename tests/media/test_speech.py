"""Dialogue: espeak-ng speech (a real subprocess) and its mix over a ducked bed."""

from __future__ import annotations

import numpy as np
import pytest

from reelforge.media.audio import mix_dialogue
from reelforge.media.speech import find_espeak, speak
from reelforge.media.types import AudioTrack, EngineCanceled
from tests.media_helpers import Flag, require_espeak


def _rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64))) + 1e-12))


def test_espeak_speaks_deterministically() -> None:
    require_espeak()
    a = speak("The quick brown fox jumps over the lazy dog.")
    b = speak("The quick brown fox jumps over the lazy dog.")
    assert a.sample_rate == 48_000 and a.samples.shape[0] == 1
    assert 1.5 < a.seconds < 5.0
    assert np.array_equal(a.samples, b.samples)
    whisper = speak("The quick brown fox", manner="whispers")
    assert not np.array_equal(whisper.samples[:, :1000], a.samples[:, :1000])


def test_speech_honours_cancel() -> None:
    require_espeak()
    with pytest.raises(EngineCanceled):
        speak("word " * 2000, cancel=Flag(after=0))


def test_missing_binary() -> None:
    assert find_espeak("espeak-ng-not-installed-here") is None
    with pytest.raises(FileNotFoundError):
        speak("hello", binary="espeak-ng-not-installed-here")


def test_dialogue_is_mixed_over_a_ducked_bed() -> None:
    sr = 48_000
    rng = np.random.default_rng(0)
    bed = AudioTrack((0.05 * rng.standard_normal((2, 4 * sr))).astype(np.float32), sr)
    t = np.arange(sr) / sr
    voice = AudioTrack((0.3 * np.sin(2 * np.pi * 220 * t))[None, :].astype(np.float32), sr)
    lines = [(1.5, voice), (3.8, voice)]
    mixed = mix_dialogue(bed, lines)
    assert mixed.samples.shape == bed.samples.shape  # cut at the bed's end
    window = slice(int(1.7 * sr), int(2.3 * sr))
    before = slice(0, sr)
    assert _rms_db(mixed.samples[:, window]) > _rms_db(mixed.samples[:, before]) + 6.0
    # The voice alone (over silence) subtracted: what is left is the bed, about 10 dB down
    # under the voice and untouched away from it.
    silence = AudioTrack(np.zeros_like(bed.samples), sr)
    left = mixed.samples - mix_dialogue(silence, lines).samples
    ducked = _rms_db(left[:, window]) - _rms_db(bed.samples[:, window])
    assert -11.0 < ducked < -9.0
    assert np.allclose(left[:, before], bed.samples[:, before])
    assert float(np.max(np.abs(mixed.samples))) <= 0.95 + 1e-6
