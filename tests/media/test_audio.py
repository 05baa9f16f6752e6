from __future__ import annotations

import numpy as np
import pytest

from reelforge.media.audio import (
    ambience_kind,
    fit_duration,
    normalize_loudness,
    procedural_ambience,
)
from reelforge.media.types import AudioTrack


def _rms_db(x: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(np.square(x, dtype=np.float64)))))


@pytest.mark.parametrize(
    ("prompt", "kind"),
    [
        ("heavy rain on a tin roof", "rain"),
        ("a windy ridge", "wind"),
        ("waves on the beach", "ocean"),
        ("city traffic at rush hour", "city"),
        ("birds in a forest", "forest"),
        ("a cheering crowd", "crowd"),
        ("she dances to music", "music"),
        ("a quiet office", "room"),
        ("a beach in the rain", "ocean"),  # the first word named wins
    ],
)
def test_bed_chosen_from_prompt(prompt: str, kind: str) -> None:
    assert ambience_kind(prompt) == kind


@pytest.mark.parametrize(
    "prompt", ["rain", "wind", "ocean", "city", "forest birds", "crowd", "music", "an empty room"]
)
def test_ambience_is_stereo_exact_length_and_sane(prompt: str) -> None:
    track = procedural_ambience(prompt, 1.5, seed=3)
    assert track.sample_rate == 48_000
    assert track.samples.shape == (2, 72_000) and track.samples.dtype == np.float32
    assert np.isfinite(track.samples).all()
    assert float(np.abs(track.samples).max()) <= 0.95
    assert -27.0 < _rms_db(track.samples) < -21.0
    # Stereo, not dual mono.
    assert not np.allclose(track.samples[0], track.samples[1])


def test_ambience_is_deterministic_per_seed() -> None:
    a = procedural_ambience("rain in the city", 2.0, seed=7)
    b = procedural_ambience("rain in the city", 2.0, seed=7)
    c = procedural_ambience("rain in the city", 2.0, seed=8)
    assert np.array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)


def test_fit_duration_trims_exactly() -> None:
    track = AudioTrack(np.ones((2, 48_000), np.float32))
    out = fit_duration(track, 0.5)
    assert out.samples.shape == (2, 24_000)
    assert out.samples[0, 0] == 1.0 and out.samples[0, -1] == 0.0  # fades out, no click


def test_fit_duration_loops_with_crossfade() -> None:
    t = np.arange(24_000) / 48_000
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    track = AudioTrack(np.stack([tone, tone]))
    out = fit_duration(track, 1.7)
    assert out.samples.shape == (2, round(1.7 * 48_000))
    # The seam is smooth-ish: no sample jumps far beyond the tone's own slope.
    assert float(np.abs(np.diff(out.samples[0])).max()) < 0.2
    assert float(np.abs(out.samples).max()) < 1.0 + 1e-5


def test_fit_duration_tiny_and_empty_tracks() -> None:
    tiny = fit_duration(AudioTrack(np.ones((1, 3), np.float32)), 0.01)
    assert tiny.samples.shape == (1, 480)
    empty = fit_duration(AudioTrack(np.zeros((2, 0), np.float32)), 0.1)
    assert empty.samples.shape == (2, 4800) and not empty.samples.any()


def test_normalize_loudness_hits_target_and_limits_peaks() -> None:
    rng = np.random.default_rng(0)
    quiet = AudioTrack((rng.standard_normal((2, 48_000)) * 0.01).astype(np.float32))
    out = normalize_loudness(quiet, target_rms_dbfs=-20.0)
    assert abs(_rms_db(out.samples) - (-20.0)) < 0.01
    spiky = np.zeros((2, 48_000), np.float32)
    spiky[:, ::4800] = 1.0
    limited = normalize_loudness(AudioTrack(spiky), target_rms_dbfs=-3.0, peak_limit=0.9)
    assert abs(float(np.abs(limited.samples).max()) - 0.9) < 1e-5
    silent = AudioTrack(np.zeros((2, 10), np.float32))
    assert not normalize_loudness(silent).samples.any()
