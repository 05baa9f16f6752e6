"""Onsets, tempo and beats of a soundtrack, in numpy alone (no librosa, no scipy).

1. Onset strength: the positive spectral flux of a log-magnitude STFT (24 kHz mono, 1024-point
   Hann frames every 256 samples, centred), summed over frequency.
2. Tempo: the autocorrelation of the onset strength, weighted by a log-normal prior around
   120 BPM (without it the plain autocorrelation often picks half the tempo), with parabolic
   interpolation of the peak lag.
3. Beats: Ellis' dynamic programme (2007): the beat sequence that lands on strong onsets while
   keeping the spacing close to the tempo's period.

A track with no clear pulse (ambience, speech, a held tone) has no beats: the autocorrelation
peak must stand out (`MIN_PULSE_CLARITY`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from reelforge.media.types import AudioTrack

ANALYSIS_RATE = 24_000
N_FFT = 1024
HOP = 256
MIN_BPM, MAX_BPM = 50.0, 220.0
PRIOR_BPM = 120.0
PRIOR_OCTAVES = 1.0  # the prior's width (standard deviation, in octaves)
TIGHTNESS = 100.0  # how strongly the beat spacing is held to the period
MIN_PULSE_CLARITY = 0.15  # autocorrelation at the beat lag / at lag 0
# A centred Hann frame starts to see an attack about one hop before the attack itself: onset
# frames are reported one hop later (measured on click tracks: -10.5 ms mean error without it).
LEAD_FRAMES = 1.0


_SMOOTH = np.array([1.0, 4.0, 6.0, 4.0, 1.0]) / 16.0


@dataclass(frozen=True)
class BeatAnalysis:
    tempo: float  # beats per minute; 0.0 when the track has no clear pulse
    beats: tuple[float, ...]  # seconds
    onsets: tuple[float, ...] = field(default=())  # seconds


def onset_strength(track: AudioTrack) -> tuple[np.ndarray, float]:
    """(onset strength per analysis frame, frames per second)."""
    mono = np.asarray(track.samples, np.float32).mean(axis=0)
    mono = _resample(mono, track.sample_rate, ANALYSIS_RATE)
    # Reflected edges: zero padding would make the start of any sound look like an onset.
    edge = (N_FFT // 2, N_FFT // 2)
    padded = np.pad(mono, edge, mode="reflect") if mono.size > N_FFT // 2 else np.pad(mono, edge)
    if padded.size < N_FFT:
        padded = np.pad(padded, (0, N_FFT - padded.size))
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(N_FFT).astype(np.float32), axis=1))
    log_mag = np.log1p(1000.0 * spectrum)
    flux = np.maximum(0.0, np.diff(log_mag, axis=0, prepend=log_mag[:1])).sum(axis=1)
    flux[:2] = 0.0  # the first frames straddle the (padded) start: no onset can be told there
    return flux.astype(np.float64), ANALYSIS_RATE / HOP


def analyse_beats(track: AudioTrack) -> BeatAnalysis:
    env, rate = onset_strength(track)
    onsets = _peaks(env, rate)
    if env.size < 8 or float(env.max()) <= 0:
        return BeatAnalysis(0.0, (), onsets)
    # Remove the slow trend so the autocorrelation sees the pulse, not the loudness.
    smooth = _moving_average(env, max(1, round(rate * 0.5)))
    pulse = np.maximum(0.0, env - smooth)
    if float(pulse.max()) <= 0:
        return BeatAnalysis(0.0, (), onsets)
    pulse /= float(pulse.std()) + 1e-9
    # A little smoothing for the tempo search: a beat period that falls between two whole
    # analysis frames must not lose to its (whole-frame) double.
    period, clarity = _tempo_period(np.convolve(pulse, _SMOOTH, mode="same"), rate)
    if period is None or clarity < MIN_PULSE_CLARITY:
        return BeatAnalysis(0.0, (), onsets)
    beats = _track(pulse, period)
    times = tuple(round((float(b) + LEAD_FRAMES) / rate, 4) for b in beats)
    return BeatAnalysis(60.0 * rate / period, times, onsets)


def beat_times(track: AudioTrack) -> tuple[float, ...]:
    return analyse_beats(track).beats


def soundtrack_beats(path: Path | str, seconds: float) -> tuple[float, ...]:
    """The beats of a reference audio file as it sounds under a clip of `seconds`: decoded,
    trimmed or looped exactly as the engines fit it (`fit_duration`), then analysed."""
    from reelforge.media.audio import fit_duration
    from reelforge.media.decode import load_audio

    track = fit_duration(load_audio(path, max_seconds=seconds + 1.0), seconds)
    return tuple(b for b in beat_times(track) if b < seconds)


# --- internals ---------------------------------------------------------------------------------


def _resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst or x.size < 2:
        return x
    if src % dst == 0:  # the usual 48 kHz -> 24 kHz: average pairs (a crude low-pass)
        k = src // dst
        n = x.size // k * k
        return x[:n].reshape(-1, k).mean(axis=1)
    n_out = max(1, round(x.size * dst / src))
    return np.interp(np.arange(n_out) * (src / dst), np.arange(x.size), x).astype(np.float32)


def _moving_average(x: np.ndarray, width: int) -> np.ndarray:
    if width <= 1:
        return x.copy()
    kernel = np.ones(width) / width
    return np.convolve(
        np.pad(x, (width // 2, width - 1 - width // 2), mode="edge"), kernel, "valid"
    )


def _tempo_period(pulse: np.ndarray, rate: float) -> tuple[float | None, float]:
    """The beat period in analysis frames and how clear the pulse is (0..1)."""
    n = pulse.size
    size = 1 << int(2 * n - 1).bit_length()
    spec = np.fft.rfft(pulse - pulse.mean(), size)
    acf = np.fft.irfft(spec * np.conj(spec), size)[:n]
    if acf[0] <= 0:
        return None, 0.0
    acf = acf / acf[0]
    lo = max(1, int(np.floor(60.0 * rate / MAX_BPM)))
    hi = min(n - 2, int(np.ceil(60.0 * rate / MIN_BPM)))
    if hi <= lo + 1:
        return None, 0.0
    lags = np.arange(lo, hi + 1)
    bpm = 60.0 * rate / lags
    prior = np.exp(-0.5 * (np.log2(bpm / PRIOR_BPM) / PRIOR_OCTAVES) ** 2)
    weighted = np.maximum(acf[lo : hi + 1], 0.0) * prior
    k = int(np.argmax(weighted))
    lag = float(lags[k])
    if 0 < k < lags.size - 1:  # parabolic interpolation of the peak
        a, b, c = acf[lo + k - 1], acf[lo + k], acf[lo + k + 1]
        denom = a - 2 * b + c
        if abs(denom) > 1e-12:
            lag += float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5))
    return lag, float(acf[lo + k])


def _track(pulse: np.ndarray, period: float) -> list[int]:
    """Ellis' dynamic-programming beat tracker over the onset strength."""
    n = pulse.size
    score = pulse.copy()
    back = np.full(n, -1, dtype=np.int64)
    lo_off = max(1, round(period / 2))
    hi_off = max(lo_off + 1, round(2 * period))
    offsets = np.arange(lo_off, hi_off + 1)
    penalty = -TIGHTNESS * np.log(offsets / period) ** 2
    for t in range(lo_off, n):
        prev = t - offsets
        valid = prev >= 0
        if not valid.any():
            continue
        cand = score[prev[valid]] + penalty[valid]
        j = int(np.argmax(cand))
        if cand[j] > 0:
            score[t] = pulse[t] + cand[j]
            back[t] = prev[valid][j]
    # The last beat: the best score within the final period, then follow the links back.
    tail = max(0, n - round(period))
    t = tail + int(np.argmax(score[tail:]))
    beats = [t]
    while back[t] >= 0:
        t = int(back[t])
        beats.append(t)
    beats.reverse()
    # Drop weak beats at the edges (silence before the music starts or after it ends).
    threshold = 0.5 * float(np.median(pulse[beats])) if beats else 0.0
    while beats and pulse[beats[0]] < threshold:
        beats.pop(0)
    while beats and pulse[beats[-1]] < threshold:
        beats.pop()
    return beats


def _peaks(env: np.ndarray, rate: float) -> tuple[float, ...]:
    """Onsets: local maxima of the onset strength above an adaptive threshold."""
    if env.size < 3:
        return ()
    local = _moving_average(env, max(3, round(rate * 0.1)))
    threshold = local + 0.5 * float(env.std())
    is_peak = (env[1:-1] > env[:-2]) & (env[1:-1] >= env[2:]) & (env[1:-1] > threshold[1:-1])
    idx = np.flatnonzero(is_peak) + 1
    keep: list[int] = []
    gap = max(1, round(rate * 0.05))
    for i in idx:
        if not keep or i - keep[-1] >= gap:
            keep.append(int(i))
        elif env[i] > env[keep[-1]]:
            keep[-1] = int(i)
    return tuple(round((i + LEAD_FRAMES) / rate, 4) for i in keep)
