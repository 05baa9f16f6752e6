"""The `preview` engine: a deterministic CPU animatic compositor, no model weights.

It animates the references it is given (it does not generate new content): reference images are
cut out and laid over a plate (a background reference, a looping reference video or a generated
backdrop), the camera performs each shot's move with parallax between layers, and the soundtrack
is the reference audio or a procedural ambience bed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import numpy as np

from reelforge.engines.base import (
    AudioTrack,
    CancelToken,
    EngineCanceled,
    ProgressCallback,
    Rendering,
    RenderRequest,
)
from reelforge.engines.preview.camera import BACKGROUND_DEPTH, SUBJECT_DEPTH, progress_at, view_at
from reelforge.engines.preview.compose import composite, render_plate
from reelforge.engines.preview.scene import Scene, prepare_scene
from reelforge.errors import InvalidReference, InvalidRequest
from reelforge.media.audio import fit_duration, normalize_loudness, procedural_ambience
from reelforge.media.decode import load_audio
from reelforge.spec import MAX_SECONDS, ReferenceKind

MIN_SIDE = 16
MAX_SIDE = 4096
MAX_FPS = 60


class PreviewEngine:
    name = "preview"

    def check_inputs(self, request: RenderRequest) -> None:
        """Raise `InvalidRequest` naming the first bad value."""
        w, h, fps, n = request.width, request.height, request.fps, request.num_frames
        for label, side in (("width", w), ("height", h)):
            if not MIN_SIDE <= side <= MAX_SIDE or side % 2:
                raise InvalidRequest(
                    f"{label} must be an even number of pixels in {MIN_SIDE}..{MAX_SIDE}, "
                    f"got {side}",
                    code="invalid_request.size",
                    param="size",
                )
        if not 1 <= fps <= MAX_FPS:
            raise InvalidRequest(
                f"fps must be in 1..{MAX_FPS}, got {fps}", code="invalid_request.fps", param="fps"
            )
        if not 1 <= n <= MAX_SECONDS * fps:
            raise InvalidRequest(
                f"num_frames must be in 1..{MAX_SECONDS * fps} ({MAX_SECONDS} s at {fps} fps), "
                f"got {n}",
                code="invalid_request.seconds",
                param="seconds",
            )
        self._check_plan(request)
        self._check_references(request)

    def _check_plan(self, request: RenderRequest) -> None:
        plan = request.plan
        if plan.num_frames != request.num_frames or not plan.shots:
            raise InvalidRequest(
                f"the shot plan covers {plan.num_frames} frames in {len(plan.shots)} shots, "
                f"the request asks for {request.num_frames}",
                code="invalid_request.plan",
            )
        start = 0
        for shot in plan.shots:
            if shot.start_frame != start or shot.num_frames < 1:
                raise InvalidRequest(
                    f"shot {shot.index} starts at frame {shot.start_frame} with "
                    f"{shot.num_frames} frames; shots must follow each other from frame 0",
                    code="invalid_request.plan",
                )
            start += shot.num_frames
        if start != request.num_frames:
            raise InvalidRequest(
                f"the shots cover {start} frames, the request asks for {request.num_frames}",
                code="invalid_request.plan",
            )

    def _check_references(self, request: RenderRequest) -> None:
        dupes = [
            k for k, c in Counter((r.kind, r.index) for r in request.references).items() if c > 1
        ]
        if dupes:
            kind, index = dupes[0]
            raise InvalidRequest(
                f"two references are @{kind.value.capitalize()}{index}",
                code="invalid_reference.duplicate",
                param="references",
            )
        for ref in request.references:
            if not ref.path.is_file():
                raise InvalidReference(
                    f"@{ref.kind.value.capitalize()}{ref.index} has no file at {ref.path}",
                    code="invalid_reference.missing_file",
                    reference_index=ref.index,
                )
        images = {r.index for r in request.refs(ReferenceKind.IMAGE)}
        for shot in request.plan.shots:
            named = [*shot.image_indices]
            if shot.background_image is not None:
                named.append(shot.background_image)
            for index in named:
                if index not in images:
                    raise InvalidRequest(
                        f"@Image{index} is mentioned but no such image reference was given",
                        code="invalid_reference.missing_mention",
                        param="prompt",
                    )

    def render(
        self, request: RenderRequest, progress: ProgressCallback, cancel: CancelToken
    ) -> Rendering:
        """Prepare the scene now (decoding and cut-outs fail here, before any frame), then hand
        back a lazy frame generator: each frame is made when the encoder pulls it."""
        self.check_inputs(request)
        audio = self._soundtrack(request)
        scene = prepare_scene(request, cancel)
        return Rendering(frames=_frames(request, scene, progress, cancel), audio=audio)

    def _soundtrack(self, request: RenderRequest) -> AudioTrack | None:
        if not request.generate_audio:
            return None
        seconds = request.num_frames / request.fps
        refs = request.refs(ReferenceKind.AUDIO)
        if refs:
            mentioned = [int(m[5:]) for m in request.plan.mentions if m.startswith("Audio")]
            first = next(
                (r for i in mentioned for r in refs if r.index == i),
                min(refs, key=lambda r: r.index),
            )
            track = load_audio(first.path, max_seconds=seconds + 1.0)
            return normalize_loudness(fit_duration(track, seconds))
        return procedural_ambience(request.prompt, seconds, request.seed)


def _frames(
    request: RenderRequest, scene: Scene, progress: ProgressCallback, cancel: CancelToken
) -> Iterator[np.ndarray]:
    w, h, total = request.width, request.height, request.num_frames
    done = 0
    # A frame whose plate and views equal the previous one's (a static shot over a still plate)
    # is that frame again: copy it rather than warp and composite it anew. The frame kept for
    # this is handed out read-only, so a consumer cannot change the copies behind our back.
    previous: tuple[object, ...] | None = None
    previous_plate: np.ndarray | None = None
    previous_frame: np.ndarray | None = None
    try:
        for layers in scene.shots:
            shot = layers.shot
            for f in range(shot.num_frames):
                if cancel.is_set():
                    raise EngineCanceled(f"canceled at frame {done} of {total}")
                t = progress_at(f, shot.num_frames)
                plate = layers.plate.plate_at(done)
                view = view_at(shot.camera, shot.speed, t, BACKGROUND_DEPTH, w, h)
                near = view_at(shot.camera, shot.speed, t, SUBJECT_DEPTH, w, h)
                key = (view, near, shot.index)
                same_plate = plate.image is previous_plate
                if same_plate and key == previous and previous_frame is not None:
                    frame = previous_frame.copy()
                else:
                    frame = render_plate(plate, view, w, h)
                    for placement in layers.placements:
                        composite(frame, placement, near)
                    frame.flags.writeable = False
                    previous, previous_plate, previous_frame = key, plate.image, frame
                done += 1
                progress(done / total)
                yield frame
    finally:
        scene.close()
