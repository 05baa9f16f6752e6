"""Loudness after ITU-R BS.1770-4 / EBU R128, in numpy alone (no scipy, no pyloudnorm).

- K-weighting: the standard's two biquads (a +4 dB high shelf above ~1.7 kHz and the RLB
  high-pass at ~38 Hz), derived for any sample rate from their analogue prototypes as
  pyloudnorm does, applied in the frequency domain (one real FFT per channel, zero-padded so
  the filters' tails do not wrap around).
- Integrated loudness: mean square per channel over 400 ms blocks with 75 % overlap, an
  absolute gate at -70 LUFS and a relative gate 10 LU under the absolutely-gated level. Mono and
  stereo channels all weigh 1.
- True peak: the largest absolute sample after 4x oversampling (FFT interpolation), in dBTP.

`normalize_lufs` brings a track to a target integrated loudness (-16 LUFS by default) and keeps
its true peak under a ceiling (-1 dBTP) with a smooth gain-riding limiter rather than a hard
clip.
"""

from __future__ import annotations

import math

import numpy as np

from reelforge.media.audio import fast_fft_len
from reelforge.media.types import AudioTrack

TARGET_LUFS = -16.0
PEAK_CEILING_DBTP = -1.0
ABSOLUTE_GATE = -70.0
RELATIVE_GATE = -10.0
BLOCK_SECONDS = 0.4
OVERLAP = 0.75
SILENCE = -math.inf


def _biquads(sr: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """(b, a) of the K-weighting shelf and high-pass at `sr` Hz."""
    out = []
    # High shelf: G = 4 dB, Q = 1/sqrt(2), fc = 1500 Hz (BS.1770's stage 1; at 48 kHz these
    # give the standard's table to 1e-4).
    g, q, fc = 4.0, 1.0 / math.sqrt(2.0), 1500.0
    a_ = 10.0 ** (g / 40.0)
    w0 = 2.0 * math.pi * fc / sr
    alpha = math.sin(w0) / (2.0 * q)
    cw = math.cos(w0)
    sa = 2.0 * math.sqrt(a_) * alpha
    b = np.array(
        [
            a_ * ((a_ + 1) + (a_ - 1) * cw + sa),
            -2 * a_ * ((a_ - 1) + (a_ + 1) * cw),
            a_ * ((a_ + 1) + (a_ - 1) * cw - sa),
        ]
    )
    a = np.array(
        [
            (a_ + 1) - (a_ - 1) * cw + sa,
            2 * ((a_ - 1) - (a_ + 1) * cw),
            (a_ + 1) - (a_ - 1) * cw - sa,
        ]
    )
    out.append((b / a[0], a / a[0]))
    # High-pass (RLB): Q = 0.5, fc = 38 Hz (stage 2).
    q, fc = 0.5, 38.0
    w0 = 2.0 * math.pi * fc / sr
    alpha = math.sin(w0) / (2.0 * q)
    cw = math.cos(w0)
    b = np.array([(1 + cw) / 2, -(1 + cw), (1 + cw) / 2])
    a = np.array([1 + alpha, -2 * cw, 1 - alpha])
    out.append((b / a[0], a / a[0]))
    return out


def k_weight(samples: np.ndarray, sr: int) -> np.ndarray:
    """K-weighted copy of `samples` (channels, n), float64."""
    x = np.atleast_2d(np.asarray(samples, np.float64))
    n = x.shape[1]
    if n == 0:
        return x.copy()
    m = fast_fft_len(n + sr // 2)  # half a second of room for the filters' tails
    spectrum = np.fft.rfft(x, m, axis=1)
    z = np.exp(-1j * np.pi * np.arange(spectrum.shape[1]) / (m / 2))  # z^-1 on the unit circle
    response = np.ones(spectrum.shape[1], complex)
    for b, a in _biquads(sr):
        response *= (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)
    return np.fft.irfft(spectrum * response, m, axis=1)[:, :n]


def block_loudness(samples: np.ndarray, sr: int) -> np.ndarray:
    """Per 400 ms block (hop 100 ms): the summed K-weighted mean square of the channels."""
    y = k_weight(samples, sr)
    block = round(BLOCK_SECONDS * sr)
    hop = round(BLOCK_SECONDS * (1.0 - OVERLAP) * sr)
    n = y.shape[1]
    if n < block:
        return np.array([float(np.mean(y * y, axis=1).sum())]) if n else np.zeros(0)
    # Cumulative sums make every block's mean square O(1).
    csum = np.concatenate([np.zeros((y.shape[0], 1)), np.cumsum(y * y, axis=1)], axis=1)
    starts = np.arange(0, n - block + 1, hop)
    energy = (csum[:, starts + block] - csum[:, starts]) / block
    return np.asarray(energy.sum(axis=0))


def integrated_loudness(track: AudioTrack) -> float:
    """Integrated loudness in LUFS; -inf for silence."""
    z = block_loudness(track.samples, track.sample_rate)
    if z.size == 0:
        return SILENCE
    with np.errstate(divide="ignore"):
        levels = -0.691 + 10.0 * np.log10(z)
    above = z[levels > ABSOLUTE_GATE]
    if above.size == 0:
        return SILENCE
    relative = -0.691 + 10.0 * math.log10(float(above.mean())) + RELATIVE_GATE
    gated = z[(levels > ABSOLUTE_GATE) & (levels > relative)]
    if gated.size == 0:
        return SILENCE
    return -0.691 + 10.0 * math.log10(float(gated.mean()))


def true_peak(samples: np.ndarray, oversample: int = 4) -> float:
    """The largest absolute value of the 4x oversampled signal (linear).

    Only the stretches that can hold it are oversampled: 4096-sample blocks whose own sample
    peak is within 3 dB (the practical bound of inter-sample overshoot) of the loudest sample,
    each with 256 samples of context either side (band-limited interpolation by FFT)."""
    x = np.atleast_2d(np.asarray(samples, np.float64))
    n = x.shape[1]
    if n == 0:
        return 0.0
    peak = float(np.max(np.abs(x)))
    if peak == 0.0:
        return 0.0
    block, ctx = 4096, 256
    blocks = -(-n // block)
    padded = np.pad(np.max(np.abs(x), axis=0), (0, blocks * block - n))
    block_peak = padded.reshape(blocks, block).max(axis=1)
    best = peak
    for b in np.flatnonzero(block_peak >= peak / 1.42):
        lo, hi = int(b) * block - ctx, min(n, (int(b) + 1) * block) + ctx
        # Silence before the start and after the end, as a meter playing the file would hear.
        seg = np.pad(x[:, max(0, lo) : min(n, hi)], ((0, 0), (max(0, -lo), max(0, hi - n))))
        up = np.fft.irfft(np.fft.rfft(seg, axis=1), seg.shape[1] * oversample, axis=1)
        core = up[:, ctx * oversample : (seg.shape[1] - ctx) * oversample]
        if core.size:
            best = max(best, float(np.max(np.abs(core))) * oversample)
    return best


def to_db(linear: float) -> float:
    return 20.0 * math.log10(linear) if linear > 0 else SILENCE


def normalize_lufs(
    track: AudioTrack,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = PEAK_CEILING_DBTP,
) -> AudioTrack:
    """Gain to `target_lufs` integrated, then a limiter so the true peak stays at or under
    `ceiling_dbtp` (the limiter costs a little loudness on very peaky material; a second pass
    wins most of it back). Silence stays silence."""
    samples = np.asarray(track.samples, np.float32)
    sr = track.sample_rate
    loud = integrated_loudness(track)
    if not math.isfinite(loud):
        return AudioTrack(samples=samples.copy(), sample_rate=sr)
    ceiling = 10.0 ** (ceiling_dbtp / 20.0)
    out = samples * np.float32(10.0 ** ((target_lufs - loud) / 20.0))
    for _ in range(2):
        out = limit(out, sr, ceiling)
        now = integrated_loudness(AudioTrack(out, sr))
        if not math.isfinite(now) or abs(now - target_lufs) < 0.2:
            break
        out = out * np.float32(10.0 ** ((target_lufs - now) / 20.0))
    out = limit(out, sr, ceiling)
    return AudioTrack(samples=out.astype(np.float32), sample_rate=sr)


LIMIT_ATTACK = 0.005  # seconds the gain takes to come down before a peak
LIMIT_RELEASE = 0.08  # seconds it takes to come back up


def limit(samples: np.ndarray, sr: int, ceiling: float) -> np.ndarray:
    """A look-ahead peak limiter: the gain each sample needs (ceiling / its peak across the
    channels, with 4x oversampled peaks), held over the attack window before it and eased back
    over the release, never above 1. Output peaks sit at or under `ceiling` (a final exact
    scale catches any remainder)."""
    x = np.asarray(samples, np.float32)
    if x.size == 0:
        return x.copy()
    n = x.shape[1]
    peak = np.max(np.abs(x), axis=0).astype(np.float64)
    # Inter-sample peaks exceed the sample peak by at most ~3 dB: skip the oversampling when
    # even that stays under the ceiling.
    if float(peak.max()) * 1.42 <= ceiling or true_peak(x) <= ceiling:
        return x.copy()
    # Inter-sample peaks: a few percent over the sample peaks at worst for program material.
    need = np.minimum(1.0, ceiling / np.maximum(peak * 1.12, 1e-12))
    # Hold the minimum gain over the attack window on both sides of each sample: minima over
    # blocks of `win` samples, each sample taking its block's and both neighbours'.
    win = max(1, round(LIMIT_ATTACK * sr))
    blocks = -(-n // win)
    coarse = np.pad(need, (0, blocks * win - n), constant_values=1.0).reshape(blocks, win)
    block_min = np.pad(coarse.min(axis=1), 1, constant_values=1.0)
    around = np.minimum(block_min[1:-1], np.minimum(block_min[:-2], block_min[2:]))
    held = np.repeat(around, win)[:n]
    # Release: the gain drops at once and climbs back smoothly.
    gain = _release(np.log(held), max(1, round(LIMIT_RELEASE * sr)))
    out = (x * np.exp(gain)[None, :].astype(np.float32)).astype(np.float32)
    tp = true_peak(out)
    if tp > ceiling:
        out *= np.float32(ceiling / tp)
    return out


def _release(log_gain: np.ndarray, rel: int) -> np.ndarray:
    """Smooth a log-gain curve so it drops at once but climbs back at most 8.7 dB (one neper)
    per `rel` samples: out[i] = min over j <= i of (g[j] + (i - j) / rel), computed as a running
    minimum of g[j] - j / rel, plus i / rel; never above 0."""
    idx = np.arange(log_gain.size, dtype=np.float64) / rel
    running = np.minimum.accumulate(log_gain - idx)
    return np.asarray(np.minimum(0.0, np.minimum(log_gain, running + idx)))
