"""Every audio reference reaches the soundtrack, as a listener would notice: a voice and a
music reference both audible (their own spectra in the output), the music ducked while the
voice speaks, each starting where the prompt puts it, the whole at -16 LUFS with no clipping.
The checks run on the decoded AAC of the encoded MP4."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from reelforge.media.decode import load_audio
from reelforge.media.loudness import integrated_loudness, to_db, true_peak
from reelforge.planning.audio_roles import AudioRole, audio_cues, audio_role
from tests.engines.test_preview_engine import render
from tests.media_helpers import (
    audio_ref,
    image_ref,
    make_request,
    studio_figure,
    write_image,
    write_wav,
)

SR = 48_000
MUSIC_HZ = (261.63, 392.0)  # C4 and G4, with a 65 Hz bass: nothing above 1 kHz
VOICE_BAND = (1000.0, 4000.0)


def music(seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    x = 0.25 * np.sin(2 * np.pi * 65.4 * t)
    for f in MUSIC_HZ:
        x += 0.2 * np.sin(2 * np.pi * f * t)
    return x


def voice(seconds: float) -> np.ndarray:
    """A voice-like signal: harmonics of a 140 Hz glottal pulse shaped by a 1-4 kHz formant
    region, syllables at 4 Hz. Its energy sits where the music has none."""
    t = np.arange(round(seconds * SR)) / SR
    f0 = 140.0 * (1 + 0.05 * np.sin(2 * np.pi * 1.3 * t))
    phase = 2 * np.pi * np.cumsum(f0) / SR
    x = np.zeros_like(t)
    for k in range(8, 29):  # 1.1 .. 4 kHz
        x += np.sin(k * phase) / k**0.5
    syllables = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, None) ** 0.5
    return 0.2 * x * syllables


def effect(seconds: float = 0.4) -> np.ndarray:
    """A short 6-8 kHz noise burst (a whoosh)."""
    rng = np.random.default_rng(3)
    n = round(seconds * SR)
    spec = np.fft.rfft(rng.normal(0, 1, n))
    f = np.fft.rfftfreq(n, 1 / SR)
    spec[(f < 6000) | (f > 8000)] = 0
    x = np.fft.irfft(spec, n)
    return 0.5 * x / np.max(np.abs(x)) * np.hanning(n)


def _band_db(x: np.ndarray, lo: float, hi: float) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    f = np.fft.rfftfreq(x.size, 1 / SR)
    return float(10 * np.log10(spec[(f >= lo) & (f <= hi)].sum() / x.size + 1e-20))


def _tone_db(x: np.ndarray, hz: float) -> float:
    return _band_db(x, hz - 6, hz + 6)


def _window(track: np.ndarray, a: float, b: float) -> np.ndarray:
    return track[round(a * SR) : round(b * SR)]


def test_roles_from_the_prompt() -> None:
    prompt = "@Image1 talks, @Audio1 voice over @Audio3 music, a whoosh @Audio2 at 4s"
    assert audio_role(prompt, 1) is AudioRole.VOICE
    assert audio_role(prompt, 3) is AudioRole.MUSIC
    assert audio_role("narrated by @Audio2", 2) is AudioRole.VOICE
    assert audio_role("music: @Audio1", 1) is AudioRole.MUSIC
    assert audio_role("the sound effect @Audio1", 1) is AudioRole.EFFECT
    assert audio_role("@Image1 dances to @Audio1", 1) is None


def test_voice_and_music_both_heard_music_ducked_under_the_voice(tmp_path: Path) -> None:
    fig = write_image(tmp_path / "fig.png", studio_figure(480, 360))
    v = write_wav(tmp_path / "voice.wav", voice(2.0))
    m = write_wav(tmp_path / "music.wav", music(2.5))  # shorter than the clip: looped
    fx = write_wav(tmp_path / "fx.wav", effect())
    prompt = (
        "@Image1 talks, @Audio1 voice at 1.5s over @Audio2 music, "
        "then a whoosh @Audio3 sound effect at 4.2s"
    )
    refs = (image_ref(1, fig), audio_ref(1, v), audio_ref(2, m), audio_ref(3, fx))
    log: list[str] = []
    request = replace(
        make_request(prompt, refs, width=320, height=240, num_frames=120), log=log.append
    )
    cues = {c.index: c for c in audio_cues(prompt, request.plan, [1, 2, 3])}
    assert (cues[1].role, cues[1].start) == (AudioRole.VOICE, 1.5)
    assert (cues[2].role, cues[2].start) == (AudioRole.MUSIC, 0.0)
    assert (cues[3].role, cues[3].start) == (AudioRole.EFFECT, 4.2)
    render(request, tmp_path / "out.mp4")
    assert any("@Audio1 is voice" in line for line in log)
    track = load_audio(tmp_path / "out.mp4")
    mono = track.samples.mean(axis=0).astype(np.float64)

    speech = _window(mono, 1.7, 3.3)
    music_only = np.concatenate([_window(mono, 0.2, 1.3), _window(mono, 3.7, 4.1)])
    # Both spectra: the music's tones throughout, the voice's band while it speaks.
    for hz in MUSIC_HZ:
        assert _tone_db(speech, hz) > _band_db(speech, 600, 900) + 15  # a clear line
    assert _band_db(speech, *VOICE_BAND) > _band_db(music_only, *VOICE_BAND) + 25
    # Ducking: the music's tones 8-16 dB lower under the voice than around it.
    for hz in MUSIC_HZ:
        drop = _tone_db(music_only[: speech.size], hz) - _tone_db(speech, hz)
        assert 8.0 < drop < 16.0, (hz, drop)
    # Placement: the voice starts at 1.5 s (its band rises within 50 ms of it).
    levels = [_band_db(_window(mono, t, t + 0.02), *VOICE_BAND) for t in np.arange(1.0, 2.0, 0.01)]
    onset = 1.0 + 0.01 * next(i for i, lv in enumerate(levels) if lv > levels[0] + 20)
    assert abs(onset - 1.5) < 0.05, onset
    # The effect at 4.2 s: 6-8 kHz energy there and not before.
    assert _band_db(_window(mono, 4.2, 4.6), 6000, 8000) > (
        _band_db(_window(mono, 3.6, 4.0), 6000, 8000) + 25
    )
    # Loudness: -16 LUFS integrated (AAC moves it a little), true peak under -1 dBTP.
    assert abs(integrated_loudness(track) + 16.0) < 0.7
    assert to_db(true_peak(track.samples)) < -0.5
