"""BS.1770 loudness against pyloudnorm (the reference meter), R128 normalisation without
clipping, and the soundtrack mix's ducking."""

from __future__ import annotations

import numpy as np
import pyloudnorm
import pytest

from reelforge.media.loudness import integrated_loudness, normalize_lufs, to_db, true_peak
from reelforge.media.mixdown import Layer, mix_soundtrack, voice_activity
from reelforge.media.types import AudioTrack


def _signals(sr: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    t = np.arange(sr * 4) / sr
    return {
        "noise": rng.normal(0, 0.1, (2, t.size)),
        "sine_1k": np.tile(0.3 * np.sin(2 * np.pi * 1000 * t), (2, 1)),
        "sine_60": np.tile(0.3 * np.sin(2 * np.pi * 60 * t), (2, 1)),
        "bursts": rng.normal(0, 0.2, (2, t.size)) * ((t % 2.0) < 0.5),
        "mono": rng.normal(0, 0.05, (1, t.size)),
    }


@pytest.mark.parametrize("sr", [48_000, 44_100])
def test_integrated_loudness_matches_pyloudnorm(sr: int) -> None:
    meter = pyloudnorm.Meter(sr)
    for name, x in _signals(sr).items():
        ours = integrated_loudness(AudioTrack(x.astype(np.float32), sr))
        ref = meter.integrated_loudness(x.T if x.shape[0] > 1 else x[0])
        assert ours == pytest.approx(ref, abs=0.02), name


def test_normalised_to_minus_16_lufs_without_clipping() -> None:
    sr = 48_000
    rng = np.random.default_rng(1)
    quiet = rng.normal(0, 0.01, (2, sr * 5))
    quiet[:, :: sr // 3] = 0.9  # sharp clicks: plain gain to -16 LUFS would clip them
    out = normalize_lufs(AudioTrack(quiet.astype(np.float32), sr))
    assert integrated_loudness(out) == pytest.approx(-16.0, abs=0.3)
    assert to_db(true_peak(out.samples)) <= -1.0 + 1e-3
    assert np.max(np.abs(out.samples)) < 1.0
    silent = normalize_lufs(AudioTrack(np.zeros((2, sr), np.float32), sr))
    assert not silent.samples.any()


def test_mix_ducks_music_only_while_the_voice_speaks() -> None:
    sr = 48_000
    t = np.arange(sr * 4) / sr
    music = AudioTrack(np.tile(0.3 * np.sin(2 * np.pi * 220 * t), (2, 1)).astype(np.float32), sr)
    tv = np.arange(sr) / sr
    speech = AudioTrack((0.3 * np.sin(2 * np.pi * 1500 * tv))[None, :].astype(np.float32), sr)
    mix = mix_soundtrack([Layer(music, 0.0, "music"), Layer(speech, 1.5, "voice")], 4.0)
    gain = mix.ducking
    assert gain[round(0.5 * sr)] == pytest.approx(1.0)
    assert to_db(float(gain[round(2.0 * sr)])) == pytest.approx(-12.0, abs=0.1)
    assert gain[round(3.5 * sr)] == pytest.approx(1.0)
    assert integrated_loudness(mix.track) == pytest.approx(-16.0, abs=0.3)
    assert mix.track.samples.shape == (2, 4 * sr)


def test_voice_activity_ignores_a_noise_floor() -> None:
    sr = 48_000
    rng = np.random.default_rng(2)
    x = rng.normal(0, 0.003, (1, sr * 2))  # a recording's hiss, about -50 dBFS
    x[:, sr // 2 : sr] += 0.3 * np.sin(2 * np.pi * 300 * np.arange(sr // 2) / sr)
    active = voice_activity(x, sr)
    assert active[55:95].all() and not active[:45].any() and not active[110:].any()
