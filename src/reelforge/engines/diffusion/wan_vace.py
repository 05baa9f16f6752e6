"""`wan-vace`: Wan2.1-VACE / Wan2.2-VACE-Fun through diffusers' `WanVACEPipeline`.

What it does with each reference kind:

- **images** (role `reference`): the images a shot uses (`@ImageN` mentions, else all) are passed
  as `reference_images`; VACE letterboxes each onto a white canvas and prepends it as an extra
  latent frame (identity / product / style reference).
- **first_frame / last_frame images**: written into the control video at frame 0 / the last frame
  with a black (keep) mask; the rest of the mask is white (generate).
- **video** (the first one): the control `video`, retimed to 16 fps and fitted to the canvas, with
  an all-white mask: the clip is regenerated following its layout and motion. With reference
  images too, `conditioning_scale` drops to 0.5 so the control video does not override identity.
- **audio**: Wan makes no sound; the soundtrack comes from `engines/diffusion/audio.py` (reference
  audio, a text-to-audio model when `engine_audio_model` is set, else procedural ambience).

Frames and size: Wan generates `4k+1` frames at 16 fps (81 = 5.06 s per call) on a canvas that is
a multiple of 16 (VAE 8 x patch 2), the output's aspect ratio with its short edge capped by the
preset (480 fast, 720 pro). Output: retimed to 24 fps by nearest frame (16 -> 24 shows every other
frame twice), trimmed to exactly `num_frames`, each frame scaled to cover the asked size and
centre-cropped. Multi-shot plans: one call per shot, joined with hard cuts. Longer shots: chunks of
up to 5 s; each later chunk continues from the last 9 generated frames of the previous one (a
black-masked prefix of the control video) and is colour-matched to the first chunk.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from reelforge.core.references import StoredReference
from reelforge.engines.base import Rendering, RenderRequest
from reelforge.engines.diffusion.audio import TextToAudio, audio_steps, soundtrack
from reelforge.engines.diffusion.common import (
    DiffusionEngine,
    Segment,
    StepTracker,
    check_counts,
    fitted_frames,
    generator,
    pick_preset,
    plain_mentions,
    plan_segments,
    references_of,
    request_preset,
    retimed,
)
from reelforge.engines.diffusion.fit import (
    WAN_FRAMES,
    fit_frame,
    generation_size,
    match_colour,
    native_frames_for,
    retime_indices,
    split_frames,
    to_uint8_frames,
)
from reelforge.engines.diffusion.loading import (
    DiffusionOptions,
    import_diffusers,
    load_component,
    load_pipeline,
)
from reelforge.engines.diffusion.presets import WAN_VACE, Preset
from reelforge.media.types import CancelToken, ProgressCallback
from reelforge.spec import ReferenceKind, ReferenceRole

NATIVE_FPS = 16
CANVAS_MULTIPLE = 16  # VAE 8 x patch 2
CONTEXT_FRAMES = 9  # native frames a continuation chunk re-uses from the previous one
FIRST_WINDOW = 120  # output frames from one 81-frame call (5 s)
NEXT_WINDOW = (WAN_FRAMES.window - CONTEXT_FRAMES) * 24 // NATIVE_FPS  # 108
MAX_SEQUENCE_LENGTH = 512
NEGATIVE_PROMPT = (
    "blurry, low quality, static, overexposed, worst quality, jpeg artifacts, deformed, "
    "disfigured, extra fingers, watermark, subtitles"
)

PRESETS = WAN_VACE  # fast, pro, turbo: engines/diffusion/presets.py


class WanVaceEngine(DiffusionEngine):
    name = "wan-vace"
    setting = "engine_wan_vace_model"
    max_sequence_length = MAX_SEQUENCE_LENGTH

    def __init__(self, options: DiffusionOptions) -> None:
        super().__init__(options)
        self.text_to_audio = TextToAudio(options)

    def check_ready(self) -> None:
        super().check_ready()
        self.text_to_audio.check_ready()

    def check_inputs(self, request: RenderRequest) -> None:
        check_counts(
            request,
            self.name,
            {ReferenceKind.IMAGE: 9, ReferenceKind.VIDEO: 1, ReferenceKind.AUDIO: 3},
        )

    # --- loading --------------------------------------------------------------------------------

    def _load(self) -> Any:
        diffusers = import_diffusers()
        source = self.source()
        # Wan's VAE is kept in float32 (its authors' advice: bf16 decoding bands and shifts colour).
        vae = load_component(
            diffusers.AutoencoderKLWan, self.options, source, self.setting, "vae", "float32"
        )
        return load_pipeline(diffusers.WanVACEPipeline, self.options, source, self.setting, vae=vae)

    # --- rendering ------------------------------------------------------------------------------

    def _render(
        self, pipe: Any, request: RenderRequest, progress: ProgressCallback, cancel: CancelToken
    ) -> Rendering:
        preset_name = request_preset(request)
        preset = pick_preset(PRESETS, preset_name, self.options, self.name)
        gw, gh = generation_size(
            request.width,
            request.height,
            multiple=CANVAS_MULTIPLE,
            max_short_edge=preset.max_short_edge,
        )
        segments = plan_segments(
            request, FIRST_WINDOW, NEXT_WINDOW, per_shot=True, split=split_frames
        )
        tracker = StepTracker(
            progress,
            cancel,
            len(segments) * preset.steps + audio_steps(request, self.text_to_audio, preset_name),
        )
        inputs = _Inputs.read(request, gw, gh)
        request.log(
            f"wan-vace: {len(segments)} call(s) of {preset.steps} steps at {gw}x{gh}, "
            f"preset {preset.name}"
        )
        chunks: list[np.ndarray] = []
        previous: np.ndarray | None = None  # native frames of the previous segment
        shot_first: np.ndarray | None = None  # first chunk of the current shot (colour anchor)
        offset = 0  # output frames rendered so far
        for n, seg in enumerate(segments):
            tracker.check()
            native = native_frames_for(seg.num_frames, NATIVE_FPS, WAN_FRAMES)
            context = previous[-CONTEXT_FRAMES:] if seg.continues and previous is not None else None
            if context is not None:
                native = WAN_FRAMES.snap(min(WAN_FRAMES.window, native + len(context)))
            frames = self._call(
                pipe,
                request,
                seg,
                preset,
                gw,
                gh,
                native,
                context,
                inputs,
                first=n == 0,
                last=n == len(segments) - 1,
                offset=offset,
                tracker=tracker,
            )
            fresh = frames[len(context) :] if context is not None else frames
            out = retimed(fresh, NATIVE_FPS, seg.num_frames)
            if seg.continues and shot_first is not None:
                out = match_colour(out, shot_first)
            else:
                shot_first = out
            chunks.append(out)
            previous = frames
            offset += seg.num_frames
        audio = soundtrack(request, self.text_to_audio, preset_name, tracker)
        tracker.report(1.0)
        return Rendering(fitted_frames(chunks, NATIVE_FPS, request.width, request.height), audio)

    def _call(
        self,
        pipe: Any,
        request: RenderRequest,
        seg: Segment,
        preset: Preset,
        gw: int,
        gh: int,
        native: int,
        context: np.ndarray | None,
        inputs: _Inputs,
        *,
        first: bool,
        last: bool,
        offset: int,
        tracker: StepTracker,
    ) -> np.ndarray:
        """One pipeline call; returns (native, gh, gw, 3) uint8 frames."""
        from PIL import Image

        refs = [inputs.images[i] for i in seg.image_indices if i in inputs.images]
        video = np.full((native, gh, gw, 3), 127, np.uint8)
        mask = np.full((native, gh, gw), 255, np.uint8)
        controlled = False
        if inputs.video is not None:
            start = round(offset * NATIVE_FPS / 24)
            span = inputs.video[start : start + native]
            video[: len(span)] = span
            controlled = len(span) > 0
        if context is not None:
            video[: len(context)] = context
            mask[: len(context)] = 0
            controlled = True
        if first and inputs.first_frame is not None and context is None:
            video[0], mask[0] = inputs.first_frame, 0
            controlled = True
        if last and inputs.last_frame is not None:
            video[-1], mask[-1] = inputs.last_frame, 0
            controlled = True
        scale = 0.5 if inputs.video is not None and refs else 1.0
        result = pipe(
            prompt=plain_mentions(seg.prompt),
            negative_prompt=NEGATIVE_PROMPT,
            video=[Image.fromarray(f) for f in video] if controlled else None,
            mask=[Image.fromarray(m) for m in mask] if controlled else None,
            reference_images=[Image.fromarray(r) for r in refs] or None,
            conditioning_scale=scale,
            height=gh,
            width=gw,
            num_frames=native,
            num_inference_steps=preset.steps,
            guidance_scale=preset.guidance_scale,
            generator=generator(request.seed + seg.shot * 1009 + offset),
            output_type="np",
            callback_on_step_end=tracker.callback,
            max_sequence_length=self.max_sequence_length,
        )
        return to_uint8_frames(result.frames[0])


class _Inputs:
    """The request's references decoded once, at the generation canvas."""

    def __init__(self) -> None:
        self.images: dict[int, np.ndarray] = {}
        self.first_frame: np.ndarray | None = None
        self.last_frame: np.ndarray | None = None
        self.video: np.ndarray | None = None

    @classmethod
    def read(cls, request: RenderRequest, gw: int, gh: int) -> _Inputs:
        from reelforge.media.decode import load_image

        inputs = cls()
        for ref in references_of(request, ReferenceKind.IMAGE):
            image = load_image(ref.path)
            if ref.role is ReferenceRole.FIRST_FRAME:
                inputs.first_frame = fit_frame(image, gw, gh)
            elif ref.role is ReferenceRole.LAST_FRAME:
                inputs.last_frame = fit_frame(image, gw, gh)
            else:
                inputs.images[ref.index] = _bounded(image, 2 * max(gw, gh))
        videos = references_of(request, ReferenceKind.VIDEO)
        if videos:
            inputs.video = _video_at(videos[0], gw, gh, request.num_frames / request.fps)
        return inputs


def _bounded(image: np.ndarray, longest: int) -> np.ndarray:
    """Downscale a reference image so its long side is at most `longest` (VACE letterboxes it onto
    the canvas anyway; a 4K reference only costs time)."""
    h, w = image.shape[:2]
    if max(h, w) <= longest:
        return image
    scale = longest / max(h, w)
    return fit_frame(image, max(1, round(w * scale)), max(1, round(h * scale)))


def _video_at(ref: StoredReference, gw: int, gh: int, seconds: float) -> np.ndarray:
    """A reference video decoded, retimed to 16 fps and fitted to the canvas (at most `seconds`)."""
    from reelforge.media.decode import iter_video_frames

    src_fps = ref.fps or 24.0
    wanted = int(seconds * NATIVE_FPS) + 1
    limit = int(seconds * src_fps) + 2
    frames = [fit_frame(f, gw, gh) for f in iter_video_frames(ref.path, max_frames=limit)]
    idx = retime_indices(wanted, src_fps, len(frames), dst_fps=NATIVE_FPS)
    return np.stack([frames[i] for i in idx])
