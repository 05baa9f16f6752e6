"""The soundtrack mix: every audio layer in its place, music ducked under voices, the whole
normalised to EBU R128.

A `Layer` is a track, where it starts, and its role:

- `voice` (a voice reference, spoken dialogue): levelled to `VOICE_LUFS`, played once;
- `music`: levelled to `MUSIC_LUFS`, looped (with crossfades) from its start to the end;
- `effect`: levelled to `EFFECT_LUFS`, played once;
- `bed` (procedural ambience): levelled to `BED_LUFS`, fitted to the whole clip.

While any voice is heard (10 ms blocks of the voices over a gate relative to their own level,
held 150 ms, 60 ms ramps) music and bed are ducked by `DUCK_DB`. The sum is brought to -16 LUFS
integrated with its true peak at or under -1 dBTP (`loudness.normalize_lufs`): no clipping.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from reelforge.media.audio import fit_duration
from reelforge.media.loudness import (
    PEAK_CEILING_DBTP,
    TARGET_LUFS,
    integrated_loudness,
    normalize_lufs,
)
from reelforge.media.types import AudioTrack

Role = Literal["voice", "music", "effect", "bed"]

VOICE_LUFS = -16.0
MUSIC_LUFS = -20.0
EFFECT_LUFS = -20.0
BED_LUFS = -25.0
DUCK_DB = -12.0  # music and bed under a voice
GATE_SHARE = 0.08  # a 10 ms voice block is "speech" above this share of the voice's loud level
_BLOCK = 0.01
_HOLD = 0.15
_RAMP = 0.06
_FADE = 0.01  # seconds of fade at a once-played layer's cut end

_TARGETS: dict[str, float] = {
    "voice": VOICE_LUFS,
    "music": MUSIC_LUFS,
    "effect": EFFECT_LUFS,
    "bed": BED_LUFS,
}


@dataclass(frozen=True)
class Layer:
    track: AudioTrack
    start: float  # seconds into the output
    role: Role
    label: str = ""  # for logs: "@Audio2", "dialogue", "ambience"


@dataclass(frozen=True)
class Mix:
    track: AudioTrack
    ducking: np.ndarray  # per-sample gain applied to music and bed (1.0 = not ducked)


def mix_soundtrack(
    layers: Sequence[Layer],
    seconds: float,
    sample_rate: int = 48_000,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = PEAK_CEILING_DBTP,
) -> Mix:
    """Mix `layers` into a stereo track of exactly round(seconds * sample_rate) samples."""
    if seconds <= 0:
        raise ValueError(f"seconds must be > 0, got {seconds}")
    n = round(seconds * sample_rate)
    voices = np.zeros((2, n), np.float32)
    ducked = np.zeros((2, n), np.float32)
    free = np.zeros((2, n), np.float32)
    for layer in layers:
        track = layer.track
        if track.sample_rate != sample_rate:
            raise ValueError(
                f"{layer.label or layer.role} is at {track.sample_rate} Hz, "
                f"the mix at {sample_rate}"
            )
        at = max(0, round(layer.start * sample_rate))
        if at >= n or track.samples.size == 0:
            continue
        stereo = _stereo(track.samples)
        stereo = _level(stereo, sample_rate, _TARGETS[layer.role])
        if layer.role in ("music", "bed"):
            fitted = fit_duration(AudioTrack(stereo, sample_rate), (n - at) / sample_rate)
            placed = fitted.samples[:, : n - at]
        else:
            placed = _once(stereo, n - at, sample_rate)
        target = voices if layer.role == "voice" else ducked if layer.role != "effect" else free
        target[:, at : at + placed.shape[1]] += placed
    gain = duck_curve(voices, sample_rate, DUCK_DB)
    mixed = voices + free + ducked * gain[None, :]
    out = normalize_lufs(AudioTrack(mixed, sample_rate), target_lufs, ceiling_dbtp)
    return Mix(track=out, ducking=gain)


def _stereo(samples: np.ndarray) -> np.ndarray:
    x = np.asarray(samples, np.float32)
    if x.shape[0] == 1:
        return np.repeat(x, 2, axis=0)
    return x[:2]


def _level(x: np.ndarray, sr: int, target: float) -> np.ndarray:
    loud = integrated_loudness(AudioTrack(x, sr))
    if not math.isfinite(loud):
        return x
    return (x * np.float32(10.0 ** ((target - loud) / 20.0))).astype(np.float32)


def _once(x: np.ndarray, room: int, sr: int) -> np.ndarray:
    """Played once: cut (with a short fade) when it runs past the clip's end."""
    if x.shape[1] <= room:
        return x
    out = x[:, :room].copy()
    k = min(room // 2, round(_FADE * sr))
    if k > 1:
        out[:, room - k :] *= np.linspace(1.0, 0.0, k, dtype=np.float32)
    return out


def voice_activity(voices: np.ndarray, sr: int) -> np.ndarray:
    """Per 10 ms block: whether a voice is heard (block RMS over `GATE_SHARE` of the loud
    blocks' level, the 90th percentile of the non-silent blocks)."""
    mono = np.asarray(voices, np.float32).mean(axis=0)
    block = max(1, round(_BLOCK * sr))
    blocks = -(-mono.size // block)
    padded = np.pad(mono, (0, blocks * block - mono.size)).reshape(blocks, block)
    rms = np.sqrt(np.mean(padded.astype(np.float64) ** 2, axis=1))
    sounding = rms[rms > 1e-5]
    if sounding.size == 0:
        return np.zeros(blocks, bool)
    loud = float(np.percentile(sounding, 90))
    return np.asarray(rms > max(1e-4, GATE_SHARE * loud))


def duck_curve(voices: np.ndarray, sr: int, duck_db: float) -> np.ndarray:
    """Per-sample gain for the ducked layers: 1 with no voice, 10**(duck_db/20) under one, held
    after each syllable and ramped so the music breathes rather than pumps."""
    n = voices.shape[1]
    active = voice_activity(voices, sr).astype(np.float64)
    blocks = active.size
    if blocks == 0 or not active.any():
        return np.ones(n, np.float32)
    hold = max(1, round(_HOLD / _BLOCK))
    held = np.convolve(active, np.ones(hold), mode="full")[:blocks] > 0
    ramp = max(1, round(_RAMP / _BLOCK))
    kernel = np.ones(2 * ramp + 1) / (2 * ramp + 1)
    smooth = np.convolve(np.pad(held.astype(np.float64), ramp, mode="edge"), kernel, "valid")
    floor = 10.0 ** (duck_db / 20.0)
    gain_blocks = 1.0 - (1.0 - floor) * smooth
    block = max(1, round(_BLOCK * sr))
    centres = (np.arange(blocks) + 0.5) * block
    return np.interp(np.arange(n), centres, gain_blocks).astype(np.float32)
