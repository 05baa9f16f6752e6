"""`ltx2`: LTX-2 / 2.3 / 2.5 (Lightricks) through diffusers' `LTX2ConditionPipeline`.

One transformer denoises video and audio latents together; a vocoder turns the audio latents into
a stereo waveform, so the clip comes with its own soundtrack.

What it does with each reference kind (conditions are `LTX2VideoCondition(frames, index,
strength)`; `index` is a *latent* frame index, one latent frame = 8 output frames):

- **first_frame / last_frame images**: conditions at index 0 / -1, strength 1.0.
- **images** (role `reference`): LTX-2 has no identity-reference input. The images a shot uses
  become keyframes: the first at index 0 (strength 0.8, so the clip starts from it unless a
  first frame was given), the others spread evenly over the clip at strength 0.5.
- **video** (the first one): its first 17 frames, at 24 fps, condition the opening at strength 0.5
  (look and motion); the IC-LoRA reference path (`LTX2InContextPipeline`) is not wired.
- **audio**: LTX-2 takes no audio input. A reference audio clip becomes the soundtrack (fitted to
  the duration) instead of the generated audio; without one the generated audio is used.

Frames and size: 24 fps natively, `8k+1` frames (257 = 10.7 s per call), canvas a multiple of 32
with the output's aspect ratio and the preset's short-edge cap (512 fast, 768 pro). Output:
trimmed to exactly `num_frames`, each frame scaled to cover the asked size and centre-cropped.
Multi-shot plans: one call per shot, joined with hard cuts. Longer shots: chunks; a later chunk is
conditioned on the last 17 frames of the previous one (a video condition at index 0) and
colour-matched to the first chunk.

Presets assume a distilled transformer (LTX-2.5's `transformer/`, or LTX-2 with the distilled
LoRA): both run the 8 distilled sigmas with guidance 1; `engine_steps` switches to a plain
schedule of that many steps (with `engine_guidance_scale`, e.g. 3.0, for full checkpoints; or the
`full` preset).

Two-stage preset (`two_stage`, e.g. `engine_presets={"ltx2:pro": "two_stage"}`): the canvas is a
multiple of 64; stage 1 runs the 8 distilled sigmas at half the canvas and returns latents; the
latent upsampler (`LTX2LatentUpsamplePipeline` over `LTX2LatentUpsamplerModel`, from
`engine_ltx2_upsampler_model` or the checkpoint's `latent_upsampler/` folder) doubles them; stage 2
refines them at the full canvas with the 3 stage-2 distilled sigmas (`noise_scale` = the first
one), the stage-1 audio latents and the same conditions, and decodes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reelforge.engines.base import Rendering, RenderRequest
from reelforge.engines.diffusion.audio import reference_soundtrack
from reelforge.engines.diffusion.common import (
    DiffusionEngine,
    Segment,
    StepTracker,
    check_counts,
    fitted_frames,
    generator,
    join_audio,
    pick_preset,
    plain_mentions,
    plan_segments,
    references_of,
    request_preset,
)
from reelforge.engines.diffusion.fit import (
    LTX2_FRAMES,
    fit_frame,
    generation_size,
    match_colour,
    split_frames,
    to_uint8_frames,
)
from reelforge.engines.diffusion.loading import (
    EngineUnavailable,
    import_diffusers,
    is_local,
    load_pipeline,
    torch_dtype,
)
from reelforge.engines.diffusion.presets import LTX2, LTX2_DISTILLED_SIGMAS, Preset
from reelforge.media.types import AudioTrack, CancelToken, ProgressCallback
from reelforge.spec import ReferenceKind, ReferenceRole

NATIVE_FPS = 24
CANVAS_MULTIPLE = 32
CONTEXT_FRAMES = 17  # 8k+1 frames of the previous chunk condition the next one
FIRST_WINDOW = LTX2_FRAMES.window  # 257 frames
NEXT_WINDOW = LTX2_FRAMES.window - CONTEXT_FRAMES
REFERENCE_OPENING_STRENGTH = 0.8
REFERENCE_KEYFRAME_STRENGTH = 0.5
VIDEO_STRENGTH = 0.5
MAX_SEQUENCE_LENGTH = 1024
NEGATIVE_PROMPT = "worst quality, inconsistent motion, blurry, jittery, distorted"

DISTILLED_SIGMAS = LTX2_DISTILLED_SIGMAS
PRESETS = LTX2  # fast, pro, two_stage, full: engines/diffusion/presets.py
TWO_STAGE_MULTIPLE = 64  # the half-size first stage must still be a multiple of 32


class Ltx2Engine(DiffusionEngine):
    name = "ltx2"
    setting = "engine_ltx2_model"
    max_sequence_length = MAX_SEQUENCE_LENGTH
    use_cross_timestep = True  # LTX-2.3/2.5 behaviour; False is LTX-2.0's

    def check_inputs(self, request: RenderRequest) -> None:
        check_counts(
            request,
            self.name,
            {ReferenceKind.IMAGE: 9, ReferenceKind.VIDEO: 1, ReferenceKind.AUDIO: 1},
        )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._upsampler: Any = None

    def _load(self) -> Any:
        diffusers = import_diffusers()
        return load_pipeline(
            diffusers.LTX2ConditionPipeline, self.options, self.source(), self.setting
        )

    def upsample_pipeline(self, pipe: Any) -> Any:
        """`LTX2LatentUpsamplePipeline` over the loaded VAE and the latent upsampler (loaded on
        the first two-stage job, kept)."""
        if self._upsampler is None:
            from diffusers.pipelines.ltx2 import (
                LTX2LatentUpsamplePipeline,
                LTX2LatentUpsamplerModel,
            )

            source = self.options.ltx2_upsampler_model or self.source()
            subfolder = "latent_upsampler"
            if self.options.ltx2_upsampler_model and is_local(source):
                from pathlib import Path

                if (Path(source).expanduser() / "config.json").is_file():
                    subfolder = ""
            try:
                model = LTX2LatentUpsamplerModel.from_pretrained(
                    source, subfolder=subfolder or None, dtype=torch_dtype(self.options.dtype),
                    local_files_only=self.options.local_files_only or None,
                )  # fmt: skip
            except (OSError, ValueError) as exc:
                raise EngineUnavailable(
                    f"the two_stage preset needs the LTX-2 latent upsampler: set "
                    f"engine_ltx2_upsampler_model or add latent_upsampler/ to {source!r} ({exc})"
                ) from exc
            model.to(pipe.vae.device)
            upsampler: Any = LTX2LatentUpsamplePipeline(vae=pipe.vae, latent_upsampler=model)
            upsampler.set_progress_bar_config(disable=True)
            self._upsampler = upsampler
        return self._upsampler

    def _render(
        self, pipe: Any, request: RenderRequest, progress: ProgressCallback, cancel: CancelToken
    ) -> Rendering:
        preset = pick_preset(PRESETS, request_preset(request), self.options, self.name)
        gw, gh = generation_size(
            request.width,
            request.height,
            multiple=TWO_STAGE_MULTIPLE if preset.two_stage else CANVAS_MULTIPLE,
            max_short_edge=preset.max_short_edge,
        )
        segments = plan_segments(
            request, FIRST_WINDOW, NEXT_WINDOW, per_shot=True, split=split_frames
        )
        steps = len(preset.sigmas) if preset.sigmas else preset.steps
        if preset.two_stage:
            steps += len(preset.stage2_sigmas or ())
            self.upsample_pipeline(pipe)  # fail before any step when the upsampler is missing
        tracker = StepTracker(progress, cancel, len(segments) * steps)
        images = _images(request, gw, gh)
        video = _video(request, gw, gh)
        request.log(
            f"ltx2: {len(segments)} call(s) of {steps} steps at {gw}x{gh}, preset {preset.name}"
            + (
                f" (stage 1 at {gw // 2}x{gh // 2}, 2x latent upsampler)"
                if preset.two_stage
                else ""
            )
        )
        chunks: list[np.ndarray] = []
        tracks: list[AudioTrack] = []
        previous: np.ndarray | None = None
        shot_first: np.ndarray | None = None
        for n, seg in enumerate(segments):
            tracker.check()
            context = previous[-CONTEXT_FRAMES:] if seg.continues and previous is not None else None
            extra = len(context) if context is not None else 0
            native = LTX2_FRAMES.snap(seg.num_frames + extra)
            conditions = self._conditions(
                seg, images, video, context, first=n == 0, last=n == len(segments) - 1,
                num_frames=native, temporal=int(pipe.vae_temporal_compression_ratio),
            )  # fmt: skip
            frames, track = self._call(
                pipe,
                request,
                seg,
                preset,
                gw,
                gh,
                native,
                conditions,
                tracker,
                offset=sum(s.num_frames for s in segments[:n]),
            )
            out = frames[extra : extra + seg.num_frames]
            if seg.continues and shot_first is not None:
                out = match_colour(out, shot_first)
            else:
                shot_first = out
            chunks.append(out)
            tracks.append(_cut(track, extra / NATIVE_FPS, seg.num_frames / NATIVE_FPS))
            previous = frames
        audio: AudioTrack | None = None
        if request.generate_audio:
            seconds = request.num_frames / request.fps
            audio = reference_soundtrack(request, seconds) or join_audio(tracks)
        tracker.report(1.0)
        return Rendering(fitted_frames(chunks, NATIVE_FPS, request.width, request.height), audio)

    def _conditions(
        self,
        seg: Segment,
        images: dict[tuple[ReferenceRole, int], np.ndarray],
        video: np.ndarray | None,
        context: np.ndarray | None,
        *,
        first: bool,
        last: bool,
        num_frames: int,
        temporal: int = 8,
    ) -> list[Any]:
        from diffusers.pipelines.ltx2.pipeline_ltx2_condition import LTX2VideoCondition
        from PIL import Image

        conditions: list[Any] = []
        opening_taken = False
        if context is not None:
            conditions.append(LTX2VideoCondition(frames=[Image.fromarray(f) for f in context]))
            opening_taken = True
        first_frames = [v for (role, _), v in images.items() if role is ReferenceRole.FIRST_FRAME]
        if first and first_frames and not opening_taken:
            conditions.append(LTX2VideoCondition(frames=Image.fromarray(first_frames[0]), index=0))
            opening_taken = True
        last_frames = [v for (role, _), v in images.items() if role is ReferenceRole.LAST_FRAME]
        if last and last_frames:
            conditions.append(LTX2VideoCondition(frames=Image.fromarray(last_frames[0]), index=-1))
        if video is not None and not opening_taken:
            conditions.append(
                LTX2VideoCondition(
                    frames=[Image.fromarray(f) for f in video[:CONTEXT_FRAMES]],
                    index=0,
                    strength=VIDEO_STRENGTH,
                )
            )
            opening_taken = True
        refs = [
            images[(ReferenceRole.REFERENCE, i)]
            for i in seg.image_indices
            if (ReferenceRole.REFERENCE, i) in images
        ]
        latent_frames = (num_frames - 1) // temporal + 1
        if refs and not opening_taken:
            conditions.append(
                LTX2VideoCondition(
                    frames=Image.fromarray(refs[0]), index=0, strength=REFERENCE_OPENING_STRENGTH
                )
            )
            refs = refs[1:]
        for k, ref in enumerate(refs):
            # Spread the other references over the clip's latent frames (never the first one).
            index = 1 + (k + 1) * (latent_frames - 1) // (len(refs) + 1)
            if 0 < index < latent_frames:
                conditions.append(
                    LTX2VideoCondition(
                        frames=Image.fromarray(ref),
                        index=index,
                        strength=REFERENCE_KEYFRAME_STRENGTH,
                    )
                )
        return conditions

    def _call(
        self,
        pipe: Any,
        request: RenderRequest,
        seg: Segment,
        preset: Preset,
        gw: int,
        gh: int,
        native: int,
        conditions: list[Any],
        tracker: StepTracker,
        *,
        offset: int,
    ) -> tuple[np.ndarray, AudioTrack]:
        guidance: dict[str, Any] = {"guidance_scale": preset.guidance_scale}
        if preset.guidance_scale <= 1.0:  # distilled: no CFG, no STG, no modality guidance
            guidance.update(
                stg_scale=0.0, audio_stg_scale=0.0, modality_scale=1.0, audio_modality_scale=1.0,
                audio_guidance_scale=1.0, spatio_temporal_guidance_blocks=None,
            )  # fmt: skip
        schedule: dict[str, Any] = (
            {"sigmas": list(preset.sigmas), "num_inference_steps": len(preset.sigmas)}
            if preset.sigmas
            else {"num_inference_steps": preset.steps}
        )
        common: dict[str, Any] = dict(
            conditions=conditions or None,
            prompt=plain_mentions(seg.prompt),
            negative_prompt=NEGATIVE_PROMPT,
            num_frames=native,
            frame_rate=float(NATIVE_FPS),
            generator=generator(request.seed + seg.shot * 1009 + offset),
            use_cross_timestep=self.use_cross_timestep,
            max_sequence_length=self.max_sequence_length,
            return_dict=False,
            callback_on_step_end=tracker.callback,
            **guidance,
        )
        if preset.two_stage:
            video, audio = self._two_stage(pipe, preset, gw, gh, native, common, schedule)
        else:
            video, audio = pipe(height=gh, width=gw, output_type="np", **common, **schedule)
        frames = to_uint8_frames(video[0])
        samples = audio[0].float().cpu().numpy().astype(np.float32)
        if samples.ndim == 1:
            samples = samples[None, :]
        rate = int(pipe.vocoder.config.output_sampling_rate)
        return frames, AudioTrack(samples=samples, sample_rate=rate)

    def _two_stage(
        self, pipe: Any, preset: Preset, gw: int, gh: int, native: int, common: dict[str, Any],
        schedule: dict[str, Any],
    ) -> tuple[Any, Any]:  # fmt: skip
        """Stage 1 at half the canvas -> 2x latent upsampling -> stage 2 at the full canvas."""
        latents, audio_latents = pipe(
            height=gh // 2, width=gw // 2, output_type="latent", **common, **schedule
        )
        upsampled = self.upsample_pipeline(pipe)(
            latents=latents, height=gh // 2, width=gw // 2, num_frames=native,
            output_type="latent", return_dict=False,
        )[0]  # fmt: skip
        stage2 = list(preset.stage2_sigmas or LTX2_DISTILLED_SIGMAS[-3:])
        return pipe(
            height=gh, width=gw, latents=upsampled, audio_latents=audio_latents,
            sigmas=stage2, num_inference_steps=len(stage2), noise_scale=stage2[0],
            output_type="np", **common,
        )  # fmt: skip


def _images(
    request: RenderRequest, gw: int, gh: int
) -> dict[tuple[ReferenceRole, int], np.ndarray]:
    """Every image reference fitted to the canvas, by (role, index)."""
    from reelforge.media.decode import load_image

    return {
        (ref.role, ref.index): fit_frame(load_image(ref.path), gw, gh)
        for ref in references_of(request, ReferenceKind.IMAGE)
    }


def _video(request: RenderRequest, gw: int, gh: int) -> np.ndarray | None:
    """The first video reference's opening, at 24 fps, fitted to the canvas."""
    from reelforge.engines.diffusion.fit import retime_indices
    from reelforge.media.decode import iter_video_frames

    videos = references_of(request, ReferenceKind.VIDEO)
    if not videos:
        return None
    ref = videos[0]
    src_fps = ref.fps or 24.0
    limit = int(CONTEXT_FRAMES * src_fps / NATIVE_FPS) + 2
    frames = [fit_frame(f, gw, gh) for f in iter_video_frames(ref.path, max_frames=limit)]
    idx = retime_indices(CONTEXT_FRAMES, src_fps, len(frames), dst_fps=NATIVE_FPS)
    return np.stack([frames[i] for i in idx])


def _cut(track: AudioTrack, start: float, seconds: float) -> AudioTrack:
    """`seconds` of a track from `start` (zero-padded if short)."""
    a = round(start * track.sample_rate)
    n = round(seconds * track.sample_rate)
    samples = track.samples[:, a : a + n]
    if samples.shape[1] < n:
        samples = np.pad(samples, ((0, 0), (0, n - samples.shape[1])))
    return AudioTrack(
        samples=np.ascontiguousarray(samples, dtype=np.float32), sample_rate=track.sample_rate
    )
