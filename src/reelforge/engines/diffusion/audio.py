"""The soundtrack of an engine whose model makes no sound (Wan VACE).

In order of preference:

1. the request's first reference audio clip, fitted to the duration (looped or trimmed) and
   levelled: a clip the client sent is what it expects to hear;
2. a text-to-audio model (`StableAudioPipeline`, e.g. `stabilityai/stable-audio-open-1.0`) when
   `engine_audio_model` is set: generated from the prompt for the clip's duration;
3. the shared procedural ambience bed of `reelforge.media.audio`, chosen from the prompt's words.

The text-to-audio pipeline is loaded through the same loader as the video models, lazily, and
kept warm beside the video model.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from reelforge.engines.base import RenderRequest
from reelforge.engines.diffusion.common import StepTracker, generator, references_of
from reelforge.engines.diffusion.loading import (
    DiffusionOptions,
    check_source,
    import_diffusers,
    load_pipeline,
)
from reelforge.media.types import AudioTrack
from reelforge.spec import ReferenceKind

AUDIO_STEPS = {"fast": 50, "pro": 100}
NEGATIVE_AUDIO_PROMPT = "Low quality, distorted, noise."


class TextToAudio:
    """A StableAudioPipeline loaded on first use and kept."""

    setting = "engine_audio_model"

    def __init__(self, options: DiffusionOptions) -> None:
        self.options = options
        self._pipe: Any = None
        self._lock = threading.Lock()

    @property
    def configured(self) -> bool:
        return bool(self.options.audio_model)

    def check_ready(self) -> None:
        if self.options.audio_model:
            check_source(
                self.options.audio_model,
                ("model_index.json",),
                local_files_only=self.options.local_files_only,
                setting=self.setting,
            )

    def pipeline(self) -> Any:
        with self._lock:
            if self._pipe is None:
                assert self.options.audio_model
                source = check_source(
                    self.options.audio_model,
                    ("model_index.json",),
                    local_files_only=self.options.local_files_only,
                    setting=self.setting,
                )
                diffusers = import_diffusers()
                audio_options = DiffusionOptions(
                    model=self.options.audio_model,
                    device=self.options.device,
                    dtype=self.options.dtype,
                    offload="model" if self.options.offload != "none" else "none",
                    local_files_only=self.options.local_files_only,
                )
                self._pipe = load_pipeline(
                    diffusers.StableAudioPipeline, audio_options, source, self.setting
                )
            return self._pipe

    def generate(
        self, prompt: str, seconds: float, seed: int, steps: int, tracker: StepTracker
    ) -> AudioTrack:
        pipe = self.pipeline()
        tracker.check()

        def on_step(_step: int, _t: Any, _latents: Any) -> None:
            tracker.step()

        out = pipe(
            prompt=prompt,
            negative_prompt=NEGATIVE_AUDIO_PROMPT,
            audio_end_in_s=seconds,
            num_inference_steps=steps,
            generator=generator(seed),
            callback=on_step,
            callback_steps=1,
        )
        audio = out.audios[0].float().cpu().numpy()
        samples = np.asarray(audio, dtype=np.float32)
        if samples.ndim == 1:
            samples = samples[None, :]
        return AudioTrack(samples=samples, sample_rate=int(pipe.vae.sampling_rate))


def reference_soundtrack(request: RenderRequest, seconds: float) -> AudioTrack | None:
    """The first reference audio clip fitted to `seconds`, or None."""
    from reelforge.media.audio import fit_duration, normalize_loudness
    from reelforge.media.decode import load_audio

    refs = references_of(request, ReferenceKind.AUDIO)
    if not refs:
        return None
    track = load_audio(refs[0].path, max_seconds=seconds + 1.0)
    return normalize_loudness(fit_duration(track, seconds))


def procedural_soundtrack(request: RenderRequest, seconds: float) -> AudioTrack:
    from reelforge.media.audio import procedural_ambience

    return procedural_ambience(request.prompt, seconds, request.seed)


def soundtrack(
    request: RenderRequest,
    text_to_audio: TextToAudio | None,
    preset: str,
    tracker: StepTracker,
) -> AudioTrack | None:
    """The soundtrack for an engine without native audio (None when audio is off)."""
    if not request.generate_audio:
        return None
    seconds = request.num_frames / request.fps
    from_reference = reference_soundtrack(request, seconds)
    if from_reference is not None:
        return from_reference
    if text_to_audio is not None and text_to_audio.configured:
        from reelforge.media.audio import fit_duration, normalize_loudness

        steps = AUDIO_STEPS.get(preset, AUDIO_STEPS["pro"])
        if text_to_audio.options.steps:
            steps = text_to_audio.options.steps
        track = text_to_audio.generate(request.prompt, seconds, request.seed, steps, tracker)
        return normalize_loudness(fit_duration(track, seconds))
    return procedural_soundtrack(request, seconds)


def audio_steps(request: RenderRequest, text_to_audio: TextToAudio | None, preset: str) -> int:
    """Denoising steps the soundtrack will take (for the progress total)."""
    if not request.generate_audio or text_to_audio is None or not text_to_audio.configured:
        return 0
    if references_of(request, ReferenceKind.AUDIO):
        return 0
    return text_to_audio.options.steps or AUDIO_STEPS.get(preset, AUDIO_STEPS["pro"])
