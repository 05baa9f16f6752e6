"""Spoken dialogue with espeak-ng (a subprocess: `espeak-ng -w out.wav --stdin`).

espeak-ng is a system package (Debian `espeak-ng`), not a Python dependency: `find_espeak`
says whether it is there, and callers say so in the job log when it is not. The output is
deterministic (same text and voice, same samples). The subprocess is polled, so a cancel token
stops a long line within a tenth of a second.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
import wave
from pathlib import Path

import numpy as np

from reelforge.media.types import AudioTrack, CancelToken, EngineCanceled

ESPEAK = "espeak-ng"
# One voice per speaker, in the order speakers first talk: alternating male and female.
VOICES = ("en-us+m3", "en-us+f3", "en-gb+m2", "en-gb+f2", "en-us+m5", "en-us+f4")
TIMEOUT_SECONDS = 20.0
_POLL_SECONDS = 0.05


class SpeechFailed(RuntimeError):
    """espeak-ng ran but gave no usable audio."""


def find_espeak(binary: str = ESPEAK) -> str | None:
    """The path of the espeak-ng executable, None when it is not installed."""
    return shutil.which(binary)


def speak(
    text: str,
    *,
    voice: str = VOICES[0],
    manner: str = "says",
    binary: str = ESPEAK,
    cancel: CancelToken | None = None,
    sample_rate: int = 48_000,
) -> AudioTrack:
    """`text` spoken by espeak-ng as a mono track at `sample_rate`.

    `manner` "whispers" uses espeak's whisper variant, "shouts" a louder, higher, faster voice.
    Raises FileNotFoundError when espeak-ng is missing, EngineCanceled when `cancel` is set
    while it runs, SpeechFailed when it fails.
    """
    exe = find_espeak(binary)
    if exe is None:
        raise FileNotFoundError(f"{binary} is not installed")
    args = [exe, "-v", voice, "-s", "160", "-a", "120", "-p", "50"]
    if manner == "whispers":
        args[2] = voice.split("+")[0] + "+whisper"
        args[4] = "150"
    elif manner == "shouts":
        args[4:] = ["185", "-a", "190", "-p", "70"]
    with tempfile.TemporaryDirectory(prefix="reelforge-tts-") as tmp:
        out = Path(tmp) / "line.wav"
        proc = subprocess.Popen(
            [*args, "-w", str(out), "--stdin"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            assert proc.stdin is not None
            proc.stdin.write(text.encode("utf-8"))
            proc.stdin.close()
            _wait(proc, cancel)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        err = proc.stderr.read().decode("utf-8", "replace").strip() if proc.stderr else ""
        if proc.stderr is not None:
            proc.stderr.close()
        if proc.returncode != 0 or not out.is_file():
            raise SpeechFailed(f"{binary} failed ({proc.returncode}): {err[:200]}")
        mono, rate = _read_wav(out)
    if mono.size == 0:
        raise SpeechFailed(f"{binary} gave no audio for {text[:40]!r}")
    return AudioTrack(samples=_resample(mono, rate, sample_rate)[None, :], sample_rate=sample_rate)


def _wait(proc: subprocess.Popen[bytes], cancel: CancelToken | None) -> None:
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while proc.poll() is None:
        if cancel is not None and cancel.is_set():
            raise EngineCanceled("canceled while speaking dialogue")
        if time.monotonic() > deadline:
            raise SpeechFailed(f"espeak-ng took more than {TIMEOUT_SECONDS:.0f} s")
        time.sleep(_POLL_SECONDS)


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as wav:
        rate = wav.getframerate()
        channels = wav.getnchannels()
        width = wav.getsampwidth()
        raw = wav.readframes(wav.getnframes())
    if width != 2:
        raise SpeechFailed(f"unexpected WAV sample width {width}")
    data = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768.0
    if channels > 1:
        data = data.reshape(-1, channels).mean(axis=1)
    return data, rate


def _resample(x: np.ndarray, src: int, dst: int) -> np.ndarray:
    if src == dst:
        return x.astype(np.float32)
    n_out = max(1, round(x.size * dst / src))
    positions = np.arange(n_out) * (src / dst)
    return np.interp(positions, np.arange(x.size), x).astype(np.float32)
