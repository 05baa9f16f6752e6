"""Soundtrack helpers: procedural ambience beds, fitting a track to a duration, loudness.

All maths is vectorised numpy: noise is shaped in the frequency domain (one FFT per layer),
envelopes are built on a coarse grid and interpolated. A 15 s stereo bed costs milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from reelforge.media.types import AudioTrack

SAMPLE_RATE = 48_000
AMBIENCE_RMS_DBFS = -24.0  # beds sit under dialogue and music, a little below the -20 target

_BED_WORDS: tuple[tuple[str, str], ...] = (
    ("rain", r"rain\w*|drizzl\w*|downpour|thunder\w*|storm\w*|monsoon"),
    ("wind", r"wind|windy|breez\w*|gust\w*|blizzard|desert|mountain\w*|snow\w*|tundra"),
    ("ocean", r"ocean\w*|sea|seas|seaside|waves?|beach\w*|shore\w*|surf\w*|coast\w*|tide"),
    ("city", r"city|cities|street\w*|traffic|cars?|downtown|urban|highway|road|subway|taxi\w*"),
    ("forest", r"forest\w*|woods?|woodland|jungle|birds?|trees?|garden\w*|park|meadow\w*"),
    ("crowd", r"crowd\w*|people|audience|market\w*|caf[eé]s?|restaurant\w*|stadium|bar|festival"),
    ("music", r"music\w*|song\w*|danc\w*|concert\w*|club|piano|guitar\w*|band|beat\w*|sing\w*"),
)
_BED_RES = tuple(
    (name, re.compile(rf"\b(?:{words})\b", re.IGNORECASE)) for name, words in _BED_WORDS
)


def ambience_kind(prompt: str) -> str:
    """The bed a prompt calls for: the kind whose word appears first, else "room"."""
    best: tuple[int, str] | None = None
    for name, pattern in _BED_RES:
        m = pattern.search(prompt)
        if m is not None and (best is None or m.start() < best[0]):
            best = (m.start(), name)
    return best[1] if best else "room"


def procedural_ambience(
    prompt: str, seconds: float, seed: int, sample_rate: int = SAMPLE_RATE
) -> AudioTrack:
    """A seeded stereo ambience bed chosen from the prompt's words (rain, wind, ocean, city,
    forest, crowd, music, else a room tone with a soft pad). Same inputs, same samples."""
    if seconds <= 0:
        raise ValueError(f"seconds must be > 0, got {seconds}")
    n = max(1, round(seconds * sample_rate))
    rng = np.random.default_rng(seed & 0xFFFF_FFFF_FFFF_FFFF)
    kind = ambience_kind(prompt)
    left, right = _BEDS[kind](rng, n, sample_rate)
    stereo = _soft_limit(_widen(left, right))
    track = AudioTrack(samples=stereo.astype(np.float32), sample_rate=sample_rate)
    return normalize_loudness(_fade_edges(track, 0.05), target_rms_dbfs=AMBIENCE_RMS_DBFS)


# --- signal building blocks -------------------------------------------------------------------


def _shaped(
    rng: np.random.Generator, n: int, sr: int, gain: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """White noise shaped by `gain(frequency_hz)` in the frequency domain, unit RMS."""
    m = fast_fft_len(n)
    spectrum = np.fft.rfft(rng.standard_normal(m))
    freqs = np.fft.rfftfreq(m, 1.0 / sr)
    out = np.fft.irfft(spectrum * gain(freqs), m)[:n]
    rms = float(np.sqrt(np.mean(out**2)))
    return out / rms if rms > 0 else out


def fast_fft_len(n: int) -> int:
    """The smallest 2**a * 3**b * 5**c >= n: FFT sizes with a large prime factor are slow."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            p = p35
            while p < n:
                p *= 2
            best = min(best, p)
            p35 *= 3
        p5 *= 5
    return best


def _soft_limit(x: np.ndarray, crest: float = 4.0) -> np.ndarray:
    """Round off rare spikes (rain drops, bird chirps) to a crest of about `crest` x RMS, so the
    loudness target is met without the peak limiter pulling the whole bed down."""
    ceiling = crest * float(np.sqrt(np.mean(x**2)))
    return x if ceiling <= 0 else np.tanh(x / ceiling) * ceiling


def _band(lo: float, hi: float, tilt: float = 0.0) -> Callable[[np.ndarray], np.ndarray]:
    """A soft band-pass (2nd-order-like skirts) with an optional 1/f**tilt slope."""

    def gain(f: np.ndarray) -> np.ndarray:
        f = np.maximum(f, 1e-3)
        g = 1.0 / np.sqrt(1.0 + (lo / f) ** 4) / np.sqrt(1.0 + (f / hi) ** 4)
        return np.asarray(g / f ** (tilt / 2.0))

    return gain


def _slow_random(rng: np.random.Generator, n: int, sr: int, hz: float) -> np.ndarray:
    """A smooth random curve in 0..1 that changes at about `hz` (built on a coarse grid)."""
    points = max(4, int(n / sr * hz) + 4)
    coarse = rng.random(points)
    x = np.linspace(0.0, points - 3, n)
    return np.interp(x, np.arange(points), coarse)


def _widen(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    # Two decorrelated channels, partly mixed, read as a wide but coherent bed.
    return np.stack([left + 0.35 * right, right + 0.35 * left])


def _fade_edges(track: AudioTrack, seconds: float) -> AudioTrack:
    n = track.samples.shape[1]
    k = min(n // 2, round(seconds * track.sample_rate))
    if k < 2:
        return track
    ramp = np.linspace(0.0, 1.0, k, dtype=np.float32)
    out = track.samples.copy()
    out[:, :k] *= ramp
    out[:, n - k :] *= ramp[::-1]
    return AudioTrack(samples=out, sample_rate=track.sample_rate)


# --- beds: each returns (left, right) -----------------------------------------------------------

Bed = Callable[[np.random.Generator, int, int], tuple[np.ndarray, np.ndarray]]


def _rain(rng: np.random.Generator, n: int, sr: int) -> tuple[np.ndarray, np.ndarray]:
    chans = []
    for _ in range(2):
        hiss = _shaped(rng, n, sr, _band(900.0, 9000.0, tilt=0.3))
        # Drops: sparse impulses smeared by a ~4 ms decay, then used to gate bright noise.
        impulses = np.zeros(n)
        count = int(n / sr * 60)
        impulses[rng.integers(0, n, count)] = rng.exponential(1.0, count)
        kernel = np.exp(-np.arange(int(0.02 * sr)) / (0.004 * sr))
        m = fast_fft_len(n + kernel.size)
        env = np.fft.irfft(np.fft.rfft(impulses, m) * np.fft.rfft(kernel, m), m)[:n]
        drops = env * _shaped(rng, n, sr, _band(1500.0, 12000.0))
        chans.append(0.7 * hiss + 0.5 * drops / max(1e-9, float(np.std(drops))))
    return chans[0], chans[1]


def _wind(rng: np.random.Generator, n: int, sr: int) -> tuple[np.ndarray, np.ndarray]:
    chans = []
    for _ in range(2):
        body = _shaped(rng, n, sr, _band(150.0, 1100.0, tilt=1.0))
        gusts = 0.35 + 0.65 * _slow_random(rng, n, sr, 0.4) ** 2
        chans.append(body * gusts)
    return chans[0], chans[1]


def _ocean(rng: np.random.Generator, n: int, sr: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(n) / sr
    period = rng.uniform(6.0, 9.0)
    chans = []
    for c in range(2):
        phase = rng.uniform(0, 2 * np.pi) + 0.6 * c
        swell = (0.5 + 0.5 * np.sin(2 * np.pi * t / period + phase)) ** 2
        swell *= 0.7 + 0.3 * _slow_random(rng, n, sr, 0.2)
        wash = _shaped(rng, n, sr, _band(60.0, 1200.0, tilt=1.0))
        foam = _shaped(rng, n, sr, _band(1500.0, 8000.0))
        chans.append(wash * (0.15 + swell) + 0.4 * foam * swell**3)
    return chans[0], chans[1]


def _city(rng: np.random.Generator, n: int, sr: int) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(n) / sr
    rumble = _shaped(rng, n, sr, _band(30.0, 250.0, tilt=1.0))
    hum = [_shaped(rng, n, sr, _band(300.0, 3000.0, tilt=0.8)) for _ in range(2)]
    busy = 0.4 + 0.6 * _slow_random(rng, n, sr, 0.3)
    left = rumble * 0.8 + hum[0] * 0.4 * busy
    right = rumble * 0.8 + hum[1] * 0.4 * busy
    # Cars passing: a swell that travels across the stereo field.
    passes = max(1, int(n / sr / 3))
    car = _shaped(rng, n, sr, _band(80.0, 2500.0, tilt=0.6))
    for _ in range(passes):
        centre = rng.uniform(0, n / sr)
        width = rng.uniform(0.8, 1.8)
        env = np.exp(-(((t - centre) / width) ** 2))
        pan = np.clip(0.5 + (t - centre) / (4 * width) * rng.choice([-1.0, 1.0]), 0.0, 1.0)
        left += 1.2 * car * env * np.sqrt(1.0 - pan)
        right += 1.2 * car * env * np.sqrt(pan)
    return left, right


def _forest(rng: np.random.Generator, n: int, sr: int) -> tuple[np.ndarray, np.ndarray]:
    left, right = _wind(rng, n, sr)
    left, right = 0.35 * left, 0.35 * right
    for _ in range(int(n / sr * 2.5)):
        length = int(rng.uniform(0.05, 0.18) * sr)
        start = int(rng.integers(0, max(1, n - length)))
        tt = np.arange(length) / sr
        f0, f1 = rng.uniform(2500.0, 5500.0, 2)
        sweep = f0 + (f1 - f0) * tt / tt[-1] + 250.0 * np.sin(2 * np.pi * 30.0 * tt)
        chirp = np.sin(2 * np.pi * np.cumsum(sweep) / sr) * np.hanning(length)
        pan = rng.uniform(0.15, 0.85)
        gain = rng.uniform(0.6, 1.6)
        left[start : start + length] += gain * chirp * np.sqrt(1.0 - pan)
        right[start : start + length] += gain * chirp * np.sqrt(pan)
    return left, right


def _crowd(rng: np.random.Generator, n: int, sr: int) -> tuple[np.ndarray, np.ndarray]:
    chans = []
    for _ in range(2):
        voices = np.zeros(n)
        for _v in range(3):
            syllables = _slow_random(rng, n, sr, rng.uniform(3.0, 6.0)) ** 3
            voices += syllables * _shaped(rng, n, sr, _band(250.0, 3500.0, tilt=0.7))
        chans.append(voices)
    return chans[0], chans[1]


def _pad(rng: np.random.Generator, n: int, sr: int, chords: int) -> tuple[np.ndarray, np.ndarray]:
    """Soft detuned triads, one chord per segment, with slow tremolo."""
    t = np.arange(n) / sr
    roots = [220.0, 174.61, 261.63, 196.0]  # A3 F3 C4 G3: a calm i-VI-III-VII loop
    start = int(rng.integers(0, len(roots)))
    seg = max(1, n // chords)
    left = np.zeros(n)
    right = np.zeros(n)
    for c in range(chords):
        lo, hi = c * seg, (n if c == chords - 1 else (c + 1) * seg)
        root = roots[(start + c) % len(roots)]
        tt = t[lo:hi]
        for ratio, amp in ((1.0, 1.0), (1.2, 0.6), (1.5, 0.7), (2.0, 0.3)):
            for ch, detune in ((left, 0.998), (right, 1.002)):
                ch[lo:hi] += amp * np.sin(2 * np.pi * root * ratio * detune * tt + c)
        fade = min(hi - lo, int(0.3 * sr)) // 2
        if fade > 1:
            ramp = np.linspace(0.0, 1.0, fade)
            for ch in (left, right):
                ch[lo : lo + fade] *= ramp
                ch[hi - fade : hi] *= ramp[::-1]
    tremolo = 0.8 + 0.2 * np.sin(2 * np.pi * 0.25 * t)
    return left * tremolo, right * tremolo


def _music(rng: np.random.Generator, n: int, sr: int) -> tuple[np.ndarray, np.ndarray]:
    chords = max(1, round(n / sr / 2.5))
    left, right = _pad(rng, n, sr, chords)
    # A soft pulse at 100 BPM gives the bed a beat without being a song.
    t = np.arange(n) / sr
    beat = np.exp(-((t % 0.6) / 0.05))
    thump = np.sin(2 * np.pi * 55.0 * t) * beat
    return left + 1.5 * thump, right + 1.5 * thump


def _room(rng: np.random.Generator, n: int, sr: int) -> tuple[np.ndarray, np.ndarray]:
    tone = [_shaped(rng, n, sr, _band(40.0, 600.0, tilt=1.0)) for _ in range(2)]
    pl, pr = _pad(rng, n, sr, max(1, round(n / sr / 4.0)))
    scale = 0.25 / max(1e-9, float(np.std(pl)))
    return tone[0] + scale * pl, tone[1] + scale * pr


_BEDS: dict[str, Bed] = {
    "rain": _rain,
    "wind": _wind,
    "ocean": _ocean,
    "city": _city,
    "forest": _forest,
    "crowd": _crowd,
    "music": _music,
    "room": _room,
}


# --- fitting and loudness -----------------------------------------------------------------------


def fit_duration(track: AudioTrack, seconds: float, crossfade: float = 0.05) -> AudioTrack:
    """Exactly round(seconds * sample_rate) samples: trimmed (with a short fade-out so the cut
    does not click) or looped with a short crossfade at each seam."""
    if seconds <= 0:
        raise ValueError(f"seconds must be > 0, got {seconds}")
    sr = track.sample_rate
    target = round(seconds * sr)
    src = track.samples.astype(np.float32, copy=False)
    channels, length = src.shape
    if length == 0:
        return AudioTrack(samples=np.zeros((channels, target), np.float32), sample_rate=sr)
    if length >= target:
        out = src[:, :target].copy()
        if length > target:
            k = min(target // 2, round(0.01 * sr))
            if k > 1:
                out[:, target - k :] *= np.linspace(1.0, 0.0, k, dtype=np.float32)
        return AudioTrack(samples=out, sample_rate=sr)
    xf = min(round(crossfade * sr), length // 4)
    if xf < 2:
        reps = -(-target // length)
        return AudioTrack(samples=np.tile(src, reps)[:, :target].copy(), sample_rate=sr)
    step = length - xf
    # Raised-cosine fades that sum to 1: a seam never overshoots the source's own peak (an
    # equal-power fade would reach +3 dB on correlated material and could clip).
    theta = np.linspace(0.0, np.pi / 2, xf, dtype=np.float32)
    fade_in, fade_out = np.sin(theta) ** 2, np.cos(theta) ** 2
    out = np.zeros((channels, target + length), np.float32)
    pos = 0
    first = True
    while pos < target:
        piece = src.copy()
        if not first:
            piece[:, :xf] *= fade_in
        piece[:, length - xf :] *= fade_out
        out[:, pos : pos + length] += piece
        pos += step
        first = False
    return AudioTrack(samples=np.ascontiguousarray(out[:, :target]), sample_rate=sr)


def normalize_loudness(
    track: AudioTrack, target_rms_dbfs: float = -20.0, peak_limit: float = 0.95
) -> AudioTrack:
    """Scale to the target RMS level; if that pushes a peak past `peak_limit`, scale down until
    the peak sits at the limit (a plain gain, never clipping). Silence stays silence."""
    samples = track.samples.astype(np.float32, copy=False)
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if samples.size else 0.0
    if rms < 1e-9:
        return AudioTrack(samples=samples.copy(), sample_rate=track.sample_rate)
    gain = 10.0 ** (target_rms_dbfs / 20.0) / rms
    peak = float(np.max(np.abs(samples))) * gain
    if peak > peak_limit:
        gain *= peak_limit / peak
    return AudioTrack(
        samples=(samples * np.float32(gain)).astype(np.float32), sample_rate=track.sample_rate
    )


# --- dialogue over a bed ------------------------------------------------------------------------

SPEECH_RMS_DBFS = -14.0  # dialogue sits well above the bed (-20 music, -24 ambience)
DUCK_DB = -10.0  # the bed under speech
_DUCK_BLOCK = 0.01  # seconds per envelope block
_DUCK_HOLD = 0.15  # seconds the bed stays down after a syllable
_DUCK_RAMP = 0.06  # seconds of the bed's fade down and back up


def mix_dialogue(
    bed: AudioTrack,
    lines: list[tuple[float, AudioTrack]],
    *,
    speech_rms_dbfs: float = SPEECH_RMS_DBFS,
    duck_db: float = DUCK_DB,
    peak_limit: float = 0.95,
) -> AudioTrack:
    """Lay spoken `lines` (start second, mono or stereo track at the bed's rate) over `bed`,
    each brought to `speech_rms_dbfs`, with the bed ducked by `duck_db` while anyone speaks.
    The result has the bed's length (speech past its end is cut); a peak over `peak_limit`
    scales the whole mix down."""
    sr = bed.sample_rate
    n = bed.samples.shape[1]
    channels = bed.samples.shape[0]
    speech = np.zeros((channels, n), np.float32)
    for start, line in lines:
        if line.sample_rate != sr:
            raise ValueError(f"line at {line.sample_rate} Hz over a {sr} Hz bed")
        at = round(start * sr)
        if at >= n or line.samples.size == 0:
            continue
        voice = _level(line.samples.mean(axis=0), speech_rms_dbfs)
        end = min(n, at + voice.size)
        speech[:, at:end] += voice[: end - at]
    gain = _duck_gain(np.abs(speech).max(axis=0), sr, duck_db)
    mixed = bed.samples.astype(np.float32) * gain + speech
    peak = float(np.max(np.abs(mixed))) if mixed.size else 0.0
    if peak > peak_limit:
        mixed *= np.float32(peak_limit / peak)
    return AudioTrack(samples=mixed.astype(np.float32), sample_rate=sr)


def _level(voice: np.ndarray, target_dbfs: float) -> np.ndarray:
    """Scale to the target RMS, measured over the voiced part (pauses do not count)."""
    loud = np.abs(voice) > 0.02 * float(np.max(np.abs(voice)) or 1.0)
    rms = float(np.sqrt(np.mean(np.square(voice[loud], dtype=np.float64)))) if loud.any() else 0.0
    if rms < 1e-9:
        return voice.astype(np.float32)
    return (voice * (10.0 ** (target_dbfs / 20.0) / rms)).astype(np.float32)


def _duck_gain(level: np.ndarray, sr: int, duck_db: float) -> np.ndarray:
    """Per-sample bed gain: 1 where nobody speaks, 10**(duck_db/20) under speech, with a short
    hold and ramps so the bed breathes rather than pumps."""
    n = level.size
    block = max(1, round(_DUCK_BLOCK * sr))
    blocks = -(-n // block)
    padded = np.pad(level, (0, blocks * block - n)).reshape(blocks, block).max(axis=1)
    active = (padded > 1e-3).astype(np.float32)
    hold = max(1, round(_DUCK_HOLD / _DUCK_BLOCK))
    held = np.convolve(active, np.ones(hold), mode="full")[:blocks] > 0  # stays on after speech
    ramp = max(1, round(_DUCK_RAMP / _DUCK_BLOCK))
    kernel = np.ones(2 * ramp + 1) / (2 * ramp + 1)
    smooth = np.convolve(np.pad(held.astype(np.float64), ramp, mode="edge"), kernel, "valid")
    floor = 10.0 ** (duck_db / 20.0)
    gain_blocks = 1.0 - (1.0 - floor) * smooth
    centres = (np.arange(blocks) + 0.5) * block
    return np.interp(np.arange(n), centres, gain_blocks).astype(np.float32)
