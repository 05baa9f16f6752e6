"""`minimax-h3`: MiniMax-H3 (Hailuo 3) through Modular Diffusers (`MiniMaxH3Blocks`).

The one open model with Seedance 2.0's input contract: an ordered list of up to 9 images, 3 videos
(with their soundtrack) and 3 audio clips, 12 in all, plus a prompt -> video with native stereo
audio in one denoising loop. Guidance-distilled: no CFG, no negative prompt.

Workflows, picked per request:

- **ref2va** (any reference of role `reference`): every reference, in the request's order, maps
  onto `MiniMaxH3ImageReference` / `MiniMaxH3VideoReference` (frames at their own fps, with their
  soundtrack) / `MiniMaxH3AudioReference`. The model labels them in its prompt presentation,
  numbered per kind in that order: `<Picture i>`, `<Video k>`, `<Audio j>` (a video that carries
  sound takes an `<Audio j>` label too, just before its `<Video k>`). Our mentions are rewritten
  to those labels: `@Image2` -> `<Picture 2>`, `@Video1` -> `<Video 1>`, `@Audio1` -> its
  `<Audio j>`. A first/last-frame image in a ref2va request is passed as one more image reference
  and named in the prompt ("The video opens on <Picture k>.").
- **fl2va** (only first/last-frame images): `image=` / `last_image=` keyframes.
- **t2va** (no image or video): the prompt alone. Audio clips alone cannot drive ref2va (the
  model refuses audio-only references), so the first clip replaces the generated soundtrack.

Frames and size: 24 fps natively; `num_frames` snapped up to `17n+5`, at least 124 (5.17 s) and
at most 345 (14.4 s, the longest count within the model's 15 s ceiling). A shorter request is
generated at 124 frames and cut to length (the action may be cut: ask for >= 5 s). Canvas:
multiple of 32, the output's aspect ratio, short edge capped by the preset (544 fast, 768 pro),
area at most 768 x 1344. Output trimmed to exactly `num_frames`, each frame scaled to cover the
asked size and centre-cropped. The model reads shot grammar itself, so a multi-shot prompt is one
call; a 15 s request needs a second chunk, which gets the first chunk's last 2 s as one more video
reference (or, with no references, its last frame as the `fl2va` first keyframe) and is
colour-matched to the first chunk.

Progress and cancel: modular pipelines have no `callback_on_step_end`, so a small loop block
(`ReelforgeStepEnd`) is appended to each denoising loop; it reports the step and raises
`EngineCanceled` when the job is canceled, within one step.

Weights: `MiniMaxAI/MiniMax-H3` holds `transformer/` (t2va, fl2va) and `transformer_ref/` (ref2va),
61.7 GB each in bf16, plus a 32B Qwen3-VL conditioner. Only the partition a request needs is
loaded, on first use.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from reelforge.core.references import StoredReference
from reelforge.engines.base import Rendering, RenderRequest
from reelforge.engines.diffusion.audio import reference_soundtrack
from reelforge.engines.diffusion.common import (
    DiffusionEngine,
    StepTracker,
    check_counts,
    fitted_frames,
    generator,
    join_audio,
    pick_preset,
    plan_segments,
    request_preset,
)
from reelforge.engines.diffusion.fit import (
    MINIMAX_H3_FRAMES,
    fit_frame,
    generation_size,
    match_colour,
    split_frames,
    to_uint8_frames,
)
from reelforge.engines.diffusion.loading import (
    DENOISERS,
    DiffusionOptions,
    EngineUnavailable,
    after_placement,
    before_placement,
    check_lever_combination,
    import_diffusers,
    place,
    quantize_weights,
    torch_dtype,
)
from reelforge.engines.diffusion.presets import MINIMAX_H3
from reelforge.engines.diffusion.qwen_vision import (
    build_slow_processor,
    processor_configs,
    torchvision_usable,
)
from reelforge.media.types import AudioTrack, CancelToken, ProgressCallback
from reelforge.planning.mentions import iter_mentions
from reelforge.spec import ReferenceKind, ReferenceRole

NATIVE_FPS = 24
CANVAS_MULTIPLE = 32
MAX_PIXELS = 768 * 1344
MAX_IMAGES, MAX_VIDEOS, MAX_AUDIO, MAX_TOTAL = 9, 3, 3, 12
CONTEXT_SECONDS = 2.0
MAX_REFERENCE_SECONDS = 15.0
AUDIO_RATE = 32_000  # the released audio VAE's; the engine reads the loaded one's

PRESETS = MINIMAX_H3  # fast, pro, turbo: engines/diffusion/presets.py

WORKFLOW_TRANSFORMER = {"ref2va": "transformer_ref", "fl2va": "transformer", "t2va": "transformer"}


# --- the request -> MiniMax-H3 mapping (pure; tested without the model) --------------------------


@dataclass(frozen=True)
class PlannedReference:
    """One reference as H3 will see it: our (kind, index), H3's kind and its prompt label."""

    ref: StoredReference
    h3_kind: str  # "image" | "video" | "audio"
    label: str  # "<Picture 1>", "<Video 1>", "<Audio 2>"


@dataclass(frozen=True)
class H3Plan:
    workflow: str  # "ref2va" | "fl2va" | "t2va"
    prompt: str
    references: tuple[PlannedReference, ...] = ()
    first_frame: StoredReference | None = None
    last_frame: StoredReference | None = None
    soundtrack_from_reference: bool = False
    left_out: tuple[StoredReference, ...] = ()  # past the model's 12 references in all


def plan_request(
    request: RenderRequest, video_has_audio: Callable[[StoredReference], bool]
) -> H3Plan:
    """Which workflow, which references in which order, and the prompt with H3's labels."""
    refs = list(request.references)
    firsts = [
        r for r in refs if r.kind is ReferenceKind.IMAGE and r.role is ReferenceRole.FIRST_FRAME
    ]
    lasts = [
        r for r in refs if r.kind is ReferenceKind.IMAGE and r.role is ReferenceRole.LAST_FRAME
    ]
    visual = [
        r
        for r in refs
        if r.role is ReferenceRole.REFERENCE
        and r.kind in (ReferenceKind.IMAGE, ReferenceKind.VIDEO)
    ]
    audio = [r for r in refs if r.kind is ReferenceKind.AUDIO]
    if not visual:
        if firsts or lasts:
            return H3Plan(
                "fl2va",
                strip_mentions(request.prompt),
                first_frame=firsts[0] if firsts else None,
                last_frame=lasts[0] if lasts else None,
                soundtrack_from_reference=bool(audio),
            )
        return H3Plan("t2va", strip_mentions(request.prompt), soundtrack_from_reference=bool(audio))
    ordered, left_out = fit_references(
        [r for r in refs if r.role is ReferenceRole.REFERENCE] + firsts + lasts, request.prompt
    )
    planned: list[PlannedReference] = []
    counts = {"image": 0, "video": 0, "audio": 0}
    for ref in ordered:
        kind = ref.kind.value
        if ref.kind is ReferenceKind.VIDEO and video_has_audio(ref):
            counts["audio"] += 1  # its soundtrack is labelled <Audio j> just before <Video k>
        counts[kind] += 1
        word = {"image": "Picture", "video": "Video", "audio": "Audio"}[kind]
        planned.append(PlannedReference(ref, kind, f"<{word} {counts[kind]}>"))
    prompt = rewrite_mentions(request.prompt, planned, left_out)
    extra = []
    for p in planned:
        if p.ref.role is ReferenceRole.FIRST_FRAME:
            extra.append(f"The video opens on {p.label}.")
        elif p.ref.role is ReferenceRole.LAST_FRAME:
            extra.append(f"The video ends on {p.label}.")
    if extra:
        prompt = f"{prompt} {' '.join(extra)}"
    return H3Plan("ref2va", prompt, tuple(planned), left_out=tuple(left_out))


def fit_references(
    ordered: list[StoredReference], prompt: str
) -> tuple[list[StoredReference], list[StoredReference]]:
    """At most MAX_TOTAL (12) references, as the model takes: a full Seedance request (9 images,
    3 videos, 3 audio = 15) loses the ones the prompt does not mention, last in request order
    first; only then mentioned ones, again from the end. Returns (kept in order, left out)."""
    excess = len(ordered) - MAX_TOTAL
    if excess <= 0:
        return ordered, []
    mentioned = {(m.kind, m.index) for m in iter_mentions(prompt)}
    by_priority = [r for r in reversed(ordered) if (r.kind, r.index) not in mentioned] + [
        r for r in reversed(ordered) if (r.kind, r.index) in mentioned
    ]
    out = {(r.kind, r.role, r.index) for r in by_priority[:excess]}
    kept = [r for r in ordered if (r.kind, r.role, r.index) not in out]
    return kept, [r for r in ordered if (r.kind, r.role, r.index) in out]


def rewrite_mentions(
    prompt: str, planned: list[PlannedReference], left_out: list[StoredReference] | None = None
) -> str:
    """`@Image1` / `[Image 1]` -> the H3 label that reference got; a left-out reference's mention
    becomes plain words ("image 9"); unknown mentions stay."""
    labels = {(p.ref.kind, p.ref.index): p.label for p in planned}
    for ref in left_out or ():
        labels.setdefault((ref.kind, ref.index), f"{ref.kind.value} {ref.index}")
    out: list[str] = []
    pos = 0
    for m in iter_mentions(prompt):
        out.append(prompt[pos : m.start])
        out.append(labels.get((m.kind, m.index), prompt[m.start : m.end]))
        pos = m.end
    out.append(prompt[pos:])
    return "".join(out)


def strip_mentions(prompt: str) -> str:
    """Without references there is nothing to label: `@Image1` -> `image 1`."""
    out: list[str] = []
    pos = 0
    for m in iter_mentions(prompt):
        out.append(prompt[pos : m.start])
        out.append(f"{m.kind.value} {m.index}")
        pos = m.end
    out.append(prompt[pos:])
    return "".join(out)


# --- the engine ---------------------------------------------------------------------------------


def step_end_block() -> Any:
    """A loop block that calls `step_end_callback(i, t)` after each denoising step."""
    from diffusers.modular_pipelines import InputParam, ModularPipelineBlocks

    class ReelforgeStepEnd(ModularPipelineBlocks):
        model_name = "minimax-h3"

        @property
        def description(self) -> str:
            return "reelforge: report progress and honour cancel after every denoising step"

        @property
        def inputs(self) -> list[Any]:
            return [InputParam("step_end_callback", default=None)]

        @property
        def intermediate_outputs(self) -> list[Any]:
            return []

        def __call__(self, components: Any, block_state: Any, i: int, t: Any) -> Any:
            callback = getattr(block_state, "step_end_callback", None)
            if callback is not None:
                callback(i, t)
            return components, block_state

    return ReelforgeStepEnd()


def h3_blocks() -> Any:
    """MiniMaxH3Blocks with the step-end block appended to each workflow's denoising loop."""
    from diffusers.modular_pipelines import MiniMaxH3Blocks

    blocks: Any = MiniMaxH3Blocks()
    for core in blocks.sub_blocks["denoise"].sub_blocks.values():
        core.sub_blocks["denoise"].sub_blocks["reelforge_step_end"] = step_end_block()
    return blocks


class MiniMaxH3Engine(DiffusionEngine):
    name = "minimax-h3"
    setting = "engine_minimax_h3_model"
    index_files = ("modular_model_index.json", "model_index.json")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._load_lock = threading.Lock()
        self._loaded: set[str] = set()

    def check_inputs(self, request: RenderRequest) -> None:
        check_counts(
            request,
            self.name,
            {ReferenceKind.IMAGE: MAX_IMAGES, ReferenceKind.VIDEO: MAX_VIDEOS,
             ReferenceKind.AUDIO: MAX_AUDIO},
        )  # fmt: skip

    def _load(self) -> Any:
        """The pipeline with every shared component; transformers load per workflow.

        Without a working torchvision (CPU test machines) the Qwen3-VL processor is built from
        the checkpoint's processor configs with the PIL / NumPy processors of `qwen_vision`.
        """
        import_diffusers()
        check_lever_combination(self.options)
        source = self.source()
        pipe = h3_blocks().init_pipeline(source)
        slow = not torchvision_usable()
        shared = [
            n for n in pipe.pretrained_component_names
            if n not in DENOISERS and not (slow and n == "processor")
        ]  # fmt: skip
        self._load_components(pipe, shared)
        if slow:
            pipe.update_components(processor=self._slow_processor(pipe, source))
        if self.options.quantize_text_encoder and self.options.quantize != "none":
            quantize_weights(pipe.text_encoder, self.options.quantize)
        if self.options.vae_tiling and hasattr(pipe.vae, "enable_tiling"):
            pipe.vae.enable_tiling()
        if hasattr(pipe, "set_progress_bar_config"):
            pipe.set_progress_bar_config(disable=True)
        return pipe

    def _slow_processor(self, pipe: Any, source: str) -> Any:
        spec = pipe._component_specs["processor"]
        where = spec.pretrained_model_name_or_path or source
        try:
            image, video = processor_configs(
                where, spec.subfolder or "processor",
                local_files_only=self.options.local_files_only,
            )  # fmt: skip
        except (OSError, ValueError) as exc:
            raise EngineUnavailable(
                f"cannot read the processor of {self.setting}={self.options.model!r}: {exc}"
            ) from exc
        return build_slow_processor(pipe.tokenizer, image, video)

    def _load_components(self, pipe: Any, names: list[str]) -> None:
        dtype = torch_dtype(self.options.dtype)
        try:
            pipe.load_components(names=names, dtype=dtype)
        except (OSError, ValueError, KeyError) as exc:
            raise EngineUnavailable(
                f"cannot load {', '.join(names)} of {self.setting}={self.options.model!r}: {exc}"
            ) from exc
        self._loaded.update(names)

    def _ensure(self, pipe: Any, workflow: str) -> None:
        """Load the transformer partition a workflow needs, once, and place the pipeline."""
        name = WORKFLOW_TRANSFORMER[workflow]
        with self._load_lock:
            if name in self._loaded and "placed" in self._loaded:
                return
            if name not in self._loaded:
                self._load_components(pipe, [name])
                before_placement(getattr(pipe, name), self.options)
            self._place(pipe)
            after_placement(getattr(pipe, name), self.options)
            self._loaded.add("placed")

    def _place(self, pipe: Any) -> None:
        if self.options.offload == "model":
            from diffusers import ComponentsManager

            manager: Any = ComponentsManager()
            manager.enable_auto_cpu_offload(device=self.options.device)
            for name in self._loaded:
                module = getattr(pipe, name, None)
                if module is not None and name != "placed":
                    manager.add(name, module)
            return
        place(pipe, self.options)

    def _render(
        self, pipe: Any, request: RenderRequest, progress: ProgressCallback, cancel: CancelToken
    ) -> Rendering:
        preset = pick_preset(PRESETS, request_preset(request), self.options, self.name)
        gw, gh = generation_size(
            request.width,
            request.height,
            multiple=CANVAS_MULTIPLE,
            max_short_edge=preset.max_short_edge,
            max_pixels=MAX_PIXELS,
        )
        h3 = plan_request(request, _has_audio)
        if h3.left_out:
            names = ", ".join(f"@{r.kind.value.capitalize()}{r.index}" for r in h3.left_out)
            request.log(
                f"minimax-h3 takes at most {MAX_TOTAL} references in all; left out: {names} "
                "(those the prompt does not mention go first, last in request order first)"
            )
        self._ensure(pipe, h3.workflow)
        segments = plan_segments(
            request, MINIMAX_H3_FRAMES.window, MINIMAX_H3_FRAMES.window, per_shot=False,
            split=split_frames,
        )  # fmt: skip
        # MiniMaxH3Scheduler puts `steps` points on the schedule: steps - 1 transformer passes.
        tracker = StepTracker(progress, cancel, len(segments) * max(1, preset.steps - 1))
        request.log(
            f"minimax-h3: {h3.workflow}, {len(h3.references)} reference(s), {len(segments)} "
            f"call(s) of {preset.steps} steps at {gw}x{gh}, preset {preset.name}"
        )
        rate = int(pipe.audio_sampling_rate)
        references = [to_h3_reference(p, gw, gh, rate) for p in h3.references]
        chunks: list[np.ndarray] = []
        tracks: list[AudioTrack] = []
        previous: np.ndarray | None = None
        for n, seg in enumerate(segments):
            tracker.check()
            kwargs: dict[str, Any] = {}
            workflow = h3.workflow
            if h3.workflow == "ref2va":
                refs = list(references)
                if previous is not None and sum(p.h3_kind == "video" for p in h3.references) < 3:
                    refs.append(_tail_reference(previous))
                kwargs["references"] = refs
            elif previous is not None:
                from PIL import Image

                workflow = "fl2va"
                kwargs["image"] = Image.fromarray(previous[-1])
            else:
                kwargs.update(self._keyframes(h3, gw, gh))
            self._ensure(pipe, workflow)
            native = MINIMAX_H3_FRAMES.snap(seg.num_frames)

            def on_step(_i: int, _t: Any) -> None:
                tracker.step()

            with cache_context(getattr(pipe, WORKFLOW_TRANSFORMER[workflow]), self.options):
                state = pipe(
                    prompt=h3.prompt,
                    height=gh,
                    width=gw,
                    num_frames=native,
                    num_inference_steps=preset.steps,
                    generator=generator(request.seed + n * 7919),
                    output_type="np",
                    step_end_callback=on_step,
                    **kwargs,
                )
            frames = to_uint8_frames(np.asarray(state.get("videos"))[0])
            out = frames[: seg.num_frames]
            if n > 0 and chunks:
                out = match_colour(out, chunks[0])
            chunks.append(out)
            samples = state.get("audio")[0].float().cpu().numpy().astype(np.float32)
            rate = int(state.get("sampling_rate"))
            keep = round(seg.num_frames / NATIVE_FPS * rate)
            tracks.append(AudioTrack(np.ascontiguousarray(samples[:, :keep]), rate))
            previous = frames[: seg.num_frames]
        audio: AudioTrack | None = None
        if request.generate_audio:
            seconds = request.num_frames / request.fps
            if h3.soundtrack_from_reference:
                audio = reference_soundtrack(request, seconds)
            audio = audio or join_audio(tracks)
        tracker.report(1.0)
        return Rendering(fitted_frames(chunks, NATIVE_FPS, request.width, request.height), audio)

    def _keyframes(self, h3: H3Plan, gw: int, gh: int) -> dict[str, Any]:
        from PIL import Image

        from reelforge.media.decode import load_image

        out: dict[str, Any] = {}
        if h3.first_frame is not None:
            out["image"] = Image.fromarray(fit_frame(load_image(h3.first_frame.path), gw, gh))
        if h3.last_frame is not None:
            out["last_image"] = Image.fromarray(fit_frame(load_image(h3.last_frame.path), gw, gh))
        return out


def to_h3_reference(
    planned: PlannedReference, gw: int, gh: int, audio_rate: int = AUDIO_RATE
) -> Any:
    """A StoredReference as the diffusers dataclass, decoded by our media layer: a video keeps
    its fps; sound is resampled to the audio VAE's rate here (the pipeline would need torchaudio
    for it)."""
    import torch
    from diffusers.modular_pipelines.minimax_h3 import (
        MiniMaxH3AudioReference,
        MiniMaxH3ImageReference,
        MiniMaxH3VideoReference,
    )
    from PIL import Image

    from reelforge.media.decode import iter_video_frames, load_audio, load_image

    ref = planned.ref
    if planned.h3_kind == "image":
        return MiniMaxH3ImageReference(image=Image.fromarray(load_image(ref.path)))
    if planned.h3_kind == "audio":
        track = load_audio(ref.path, sample_rate=audio_rate, max_seconds=MAX_REFERENCE_SECONDS)
        return MiniMaxH3AudioReference(
            audio=torch.from_numpy(track.samples), sample_rate=track.sample_rate
        )
    fps = float(ref.fps or NATIVE_FPS)
    limit = int(MAX_REFERENCE_SECONDS * fps)
    short = min(gw, gh)
    frames = np.stack(list(iter_video_frames(ref.path, height=short, max_frames=limit)))
    audio = None
    sample_rate = None
    if _has_audio(ref):
        track = load_audio(ref.path, sample_rate=audio_rate, max_seconds=MAX_REFERENCE_SECONDS)
        audio, sample_rate = torch.from_numpy(track.samples), track.sample_rate
    return MiniMaxH3VideoReference(frames=frames, fps=fps, audio=audio, sample_rate=sample_rate)


@contextmanager
def cache_context(transformer: Any, options: DiffusionOptions) -> Iterator[None]:
    """The modular H3 denoise block calls its transformer outside any `cache_context`, which
    diffusers' cache hooks (TaylorSeer) need; H3 is guidance-distilled, one forward per step, so
    one context spans the whole call. The hooks' state is reset afterwards for the next call."""
    if options.cache == "none" or not getattr(transformer, "is_cache_enabled", False):
        yield
        return
    try:
        with transformer.cache_context("cond"):
            yield
    finally:
        transformer._reset_stateful_cache()


def _tail_reference(frames: np.ndarray) -> Any:
    from diffusers.modular_pipelines.minimax_h3 import MiniMaxH3VideoReference

    tail = frames[-int(CONTEXT_SECONDS * NATIVE_FPS) :]
    return MiniMaxH3VideoReference(frames=np.ascontiguousarray(tail), fps=float(NATIVE_FPS))


def _has_audio(ref: StoredReference) -> bool:
    if ref.kind is not ReferenceKind.VIDEO:
        return False
    from reelforge.media.probe import probe_media

    try:
        return probe_media(ref.path, count_frames=False).has_audio
    except Exception:  # an unreadable container has no usable soundtrack
        return False
