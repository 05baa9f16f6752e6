"""The `preview` engine: a deterministic CPU animatic compositor, no model weights.

It animates the references it is given (it does not generate new content): reference images are
cut out and laid over a plate (a background reference, a looping reference video or a generated
backdrop); the camera performs each shot's move (or a reference video's measured motion) with
parallax between layers; subjects perform the plan's actions; shots are joined by cuts,
crossfades, fades or whip pans; given first/last frames are shown exactly; the soundtrack is the
reference audio or a procedural ambience bed, with quoted dialogue spoken by espeak-ng.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import cv2
import numpy as np

from reelforge import codes
from reelforge.engines.base import Rendering, RenderRequest
from reelforge.engines.preview.scene import Scene, ShotRender, prepare_scene
from reelforge.engines.preview.transitions import (
    Join,
    crossfade,
    edge_gain,
    fade_gain,
    letterbox,
    plan_joins,
    progress,
    scaled,
    whip,
    window_map,
)
from reelforge.errors import InvalidReference, InvalidRequest
from reelforge.media.audio import procedural_ambience
from reelforge.media.decode import load_audio
from reelforge.media.mixdown import Layer, mix_soundtrack
from reelforge.media.speech import ESPEAK, VOICES, SpeechFailed, find_espeak, speak
from reelforge.media.stream import prefetch
from reelforge.media.types import AudioTrack, CancelToken, EngineCanceled, ProgressCallback
from reelforge.planning.audio_roles import AudioRole, audio_cues
from reelforge.planning.model import CameraMove, DialogueLine, Transition
from reelforge.spec import MAX_CONTINUATION_SECONDS, ReferenceKind

MIN_SIDE = 16
MAX_SIDE = 5120  # 2160p at 21:9 is 5040x2160
MAX_FPS = 60
LINE_LEAD_SECONDS = 0.3  # a shot's first line starts this far into the shot
LINE_GAP_SECONDS = 0.25  # between consecutive lines
PREFETCH_FRAMES = 2


class PreviewEngine:
    name = "preview"

    def __init__(self, espeak: str = ESPEAK) -> None:
        self.espeak = espeak  # the espeak-ng executable (a name on PATH or a path)

    def check_inputs(self, request: RenderRequest) -> None:
        """Raise `InvalidRequest` naming the first bad value."""
        w, h, fps, n = request.width, request.height, request.fps, request.num_frames
        for label, side in (("width", w), ("height", h)):
            if not MIN_SIDE <= side <= MAX_SIDE or side % 2:
                raise InvalidRequest(
                    f"{label} must be an even number of pixels in {MIN_SIDE}..{MAX_SIDE}, "
                    f"got {side}",
                    code=codes.INVALID_REQUEST_SIZE,
                    param="size",
                )
        if not 1 <= fps <= MAX_FPS:
            raise InvalidRequest(
                f"fps must be in 1..{MAX_FPS}, got {fps}",
                code=codes.INVALID_REQUEST_FPS,
                param="fps",
            )
        most = MAX_CONTINUATION_SECONDS
        if not 1 <= n <= most * fps:
            raise InvalidRequest(
                f"num_frames must be in 1..{most * fps} ({most} s at {fps} fps), got {n}",
                code=codes.INVALID_REQUEST_SECONDS,
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
                code=codes.INVALID_REQUEST_PLAN,
            )
        start = 0
        for shot in plan.shots:
            if shot.start_frame != start or shot.num_frames < 1:
                raise InvalidRequest(
                    f"shot {shot.index} starts at frame {shot.start_frame} with "
                    f"{shot.num_frames} frames; shots must follow each other from frame 0",
                    code=codes.INVALID_REQUEST_PLAN,
                )
            start += shot.num_frames
        if start != request.num_frames:
            raise InvalidRequest(
                f"the shots cover {start} frames, the request asks for {request.num_frames}",
                code=codes.INVALID_REQUEST_PLAN,
            )

    def _check_references(self, request: RenderRequest) -> None:
        dupes = [
            k for k, c in Counter((r.kind, r.index) for r in request.references).items() if c > 1
        ]
        if dupes:
            kind, index = dupes[0]
            raise InvalidRequest(
                f"two references are @{kind.value.capitalize()}{index}",
                code=codes.INVALID_REFERENCE_DUPLICATE,
                param="references",
            )
        for ref in request.references:
            if not ref.path.is_file():
                raise InvalidReference(
                    f"@{ref.kind.value.capitalize()}{ref.index} has no file at {ref.path}",
                    code=codes.INVALID_REFERENCE_MISSING_FILE,
                    reference_index=ref.index,
                )
        images = {r.index for r in request.refs(ReferenceKind.IMAGE)}
        videos = {r.index for r in request.refs(ReferenceKind.VIDEO)}
        for label, pinned in (
            ("first", request.plan.first_frame),
            ("last", request.plan.last_frame),
        ):
            if pinned is not None and pinned not in images:
                raise InvalidRequest(
                    f"the plan's {label} frame is @Image{pinned}, but no such image was given",
                    code=codes.INVALID_REFERENCE_MISSING_MENTION,
                    param="references",
                )
        for shot in request.plan.shots:
            if shot.camera is CameraMove.FROM_VIDEO and shot.motion_video not in videos:
                raise InvalidRequest(
                    f"shot {shot.index + 1} follows the motion of @Video{shot.motion_video}, "
                    "but no such video reference was given",
                    code=codes.INVALID_REFERENCE_MISSING_MENTION,
                    param="prompt",
                )
            named = [*shot.image_indices]
            if shot.background_image is not None:
                named.append(shot.background_image)
            for index in named:
                if index not in images:
                    raise InvalidRequest(
                        f"@Image{index} is mentioned but no such image reference was given",
                        code=codes.INVALID_REFERENCE_MISSING_MENTION,
                        param="prompt",
                    )

    def render(
        self, request: RenderRequest, progress: ProgressCallback, cancel: CancelToken
    ) -> Rendering:
        """Prepare the soundtrack and the scene now (decoding, speech and cut-outs fail here,
        before any frame), then hand back a lazy frame generator: each frame is made when the
        encoder pulls it."""
        self.check_inputs(request)
        audio, scene = self._prepare(request, cancel)
        # Frames are drawn a couple ahead in a helper thread, overlapping the encoder's work.
        frames = prefetch(_frames(request, scene, progress, cancel), depth=PREFETCH_FRAMES)
        return Rendering(frames=frames, audio=audio)

    def _prepare(
        self, request: RenderRequest, cancel: CancelToken
    ) -> tuple[AudioTrack | None, Scene]:
        """The soundtrack (on a helper thread: FFTs and espeak-ng, which release the GIL) and
        the scene (here), at the same time. The soundtrack's log lines are held and written
        after the scene's, so the job log's order does not depend on timing."""
        held: list[str] = []
        quiet = replace(request, log=held.append)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="preview-audio") as pool:
            sound = pool.submit(self._soundtrack, quiet, cancel)
            try:
                scene = prepare_scene(request, cancel)
            except BaseException:
                sound.cancel()
                raise
            try:
                audio = sound.result()
            except BaseException:
                scene.close()
                raise
        for line in held:
            request.log(line)
        return audio, scene

    def render_alpha(
        self, request: RenderRequest, progress: ProgressCallback, cancel: CancelToken
    ) -> Rendering:
        """Like `render`, but the frames are RGBA (straight colour): the subjects alone on a
        transparent background (no plate), for compositing. Joins crossfade the subjects; fades
        to black and the clip's fades fade the alpha."""
        self.check_inputs(request)
        audio, scene = self._prepare(request, cancel)
        frames = prefetch(_alpha_frames(request, scene, progress, cancel), depth=PREFETCH_FRAMES)
        return Rendering(frames=frames, audio=audio)

    def _soundtrack(self, request: RenderRequest, cancel: CancelToken) -> AudioTrack | None:
        """Every reference audio clip in the role and at the time the prompt gives it (voice,
        music, effect; `planning.audio_roles`), the spoken dialogue, and the procedural
        ambience bed when no clip is music; mixed with the music ducked under voices and
        normalised to -16 LUFS, -1 dBTP (`media.mixdown`)."""
        if not request.generate_audio:
            return None
        seconds = request.num_frames / request.fps
        refs = {r.index: r for r in request.refs(ReferenceKind.AUDIO)}
        tracks = {}
        for index, ref in sorted(refs.items()):
            if cancel.is_set():
                raise EngineCanceled("canceled while decoding reference audio")
            tracks[index] = load_audio(ref.path, max_seconds=seconds + 1.0)
        lengths = {i: t.seconds for i, t in tracks.items()}
        layers: list[Layer] = []
        cues = audio_cues(request.prompt, request.plan, sorted(tracks), lengths)
        for cue in cues:
            layers.append(Layer(tracks[cue.index], cue.start, cue.role.value, f"@Audio{cue.index}"))
            request.log(f"preview: @Audio{cue.index} is {cue.role.value}, from {cue.start:.2f} s")
        if not any(c.role is AudioRole.MUSIC for c in cues):
            bed = procedural_ambience(request.prompt, seconds, request.seed)
            layers.append(Layer(bed, 0.0, "bed", "ambience"))
        for start, spoken in self._dialogue(request, cancel):
            layers.append(Layer(spoken, start, "voice", "dialogue"))
        return mix_soundtrack(layers, seconds).track

    def _dialogue(
        self, request: RenderRequest, cancel: CancelToken
    ) -> list[tuple[float, AudioTrack]]:
        """The plan's quoted lines spoken by espeak-ng, each with its start second."""
        wanted = [(shot, line) for shot in request.plan.shots for line in shot.dialogue]
        if not wanted:
            return []
        if find_espeak(self.espeak) is None:
            quoted = "; ".join(f'"{line.text}"' for _, line in wanted)
            request.log(
                f"preview: {self.espeak} is not installed, so the dialogue is not spoken "
                f"({quoted}); install it (Debian/Ubuntu: apt-get install espeak-ng) to hear it"
            )
            return []
        voices: dict[int | None, str] = {}
        placed: list[tuple[float, AudioTrack]] = []
        free_at = 0.0
        for shot, line in wanted:
            if cancel.is_set():
                raise EngineCanceled("canceled while speaking dialogue")
            voice = voices.setdefault(line.speaker, VOICES[len(voices) % len(VOICES)])
            try:
                spoken = speak(
                    line.text, voice=voice, manner=line.manner, binary=self.espeak, cancel=cancel
                )
            except SpeechFailed as exc:
                request.log(f"preview: the line {_quote(line)} was not spoken: {exc}")
                continue
            start = max(shot.start_frame / request.fps + LINE_LEAD_SECONDS, free_at)
            placed.append((start, spoken))
            free_at = start + spoken.seconds + LINE_GAP_SECONDS
            request.log(f"preview: {_quote(line)} spoken at {start:.2f} s ({voice})")
        return placed


def _quote(line: DialogueLine) -> str:
    return f'"{line.text[:60]}"'


def _frames(
    request: RenderRequest, scene: Scene, progress_cb: ProgressCallback, cancel: CancelToken
) -> Iterator[np.ndarray]:
    """The output frames in order: each shot's frames, joined as the plan says, faded at the
    clip's ends when asked, letterboxed when asked. A frame equal to the one before it (a still
    shot) is not drawn again; frames handed out are read-only."""
    plan = request.plan
    w, h, total = request.width, request.height, request.num_frames
    shot_of = np.repeat(np.arange(len(scene.shots)), [r.shot.num_frames for r in scene.shots])
    windows = window_map(plan_joins(plan))
    drawn: dict[int, tuple[tuple[object, ...], np.ndarray]] = {}

    def draw(k: int, f: int, index: int) -> np.ndarray:
        shot = scene.shots[k]
        key = shot.frame_key(f, index)
        cached = drawn.get(k)
        if cached is not None and cached[0] == key:
            return cached[1]
        frame = shot.draw(f, index, w, h)
        frame.flags.writeable = False
        drawn[k] = (key, frame)
        return frame

    try:
        for i in range(total):
            if cancel.is_set():
                raise EngineCanceled(f"canceled at frame {i} of {total}")
            k = int(shot_of[i])
            frame = _compose(scene.shots, k, i, windows, draw)
            gain = edge_gain(plan, i)
            if gain < 1.0:
                frame = scaled(frame, gain)
            frame = letterbox(frame, plan.letterbox)
            if frame.flags.writeable:
                frame.flags.writeable = False
            progress_cb((i + 1) / total)
            yield frame
    finally:
        scene.close()


def _alpha_frames(
    request: RenderRequest, scene: Scene, progress_cb: ProgressCallback, cancel: CancelToken
) -> Iterator[np.ndarray]:
    plan = request.plan
    w, h, total = request.width, request.height, request.num_frames
    shot_of = np.repeat(np.arange(len(scene.shots)), [r.shot.num_frames for r in scene.shots])
    windows = window_map(plan_joins(plan))

    def draw(k: int, f: int, _index: int) -> np.ndarray:
        return scene.shots[k].draw_subjects(f, w, h)

    try:
        for i in range(total):
            if cancel.is_set():
                raise EngineCanceled(f"canceled at frame {i} of {total}")
            k = int(shot_of[i])
            join = windows.get(i)
            if join is not None and join.kind is not Transition.FADE_BLACK:
                a = draw(join.shot - 1, i - scene.shots[join.shot - 1].shot.start_frame, i)
                b = draw(join.shot, i - join.at, i)
                p = progress(join, i)
                frame = cv2.addWeighted(a, 1.0 - p, b, p, 0.0)
            else:
                frame = _compose(scene.shots, k, i, {}, draw)
                if join is not None:
                    _fade_alpha(frame, fade_gain(join, i))
            gain = edge_gain(plan, i)
            if gain < 1.0:
                _fade_alpha(frame, gain)
            progress_cb((i + 1) / total)
            yield frame
    finally:
        scene.close()


def _fade_alpha(frame: np.ndarray, gain: float) -> None:
    frame[:, :, 3] = cv2.convertScaleAbs(frame[:, :, 3], alpha=max(0.0, min(1.0, gain)))


def _compose(
    shots: list[ShotRender],
    k: int,
    i: int,
    windows: dict[int, Join],
    draw: Callable[[int, int, int], np.ndarray],
) -> np.ndarray:
    """Output frame i, which falls in shot k: the shot's own frame, or the mix of the two shots
    of the join whose window it is in."""
    join = windows.get(i)
    local = i - shots[k].shot.start_frame
    if join is None:
        return draw(k, local, i)
    incoming = join.shot
    outgoing = incoming - 1
    out_local = i - shots[outgoing].shot.start_frame  # past its end: held on its last frame
    in_local = i - join.at  # before its start: held on its first frame
    if join.kind is Transition.FADE_BLACK:
        frame = draw(outgoing, out_local, i) if i < join.at else draw(incoming, in_local, i)
        return scaled(frame, fade_gain(join, i))
    a = draw(outgoing, out_local, i)
    b = draw(incoming, in_local, i)
    p = progress(join, i)
    if join.kind is Transition.WHIP_PAN:
        return whip(a, b, p)
    return crossfade(a, b, p)
