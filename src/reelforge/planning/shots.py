"""The shot plan: the typed result of reading a prompt, shared by every engine.

`plan_shots` turns prompt text and reference metadata into a `ShotPlan` without touching pixels:

- shots split on `Shot N:` markers, timed markers (`[0-4s] ... [4-8s] ...`), "cut to" and the
  transitions that double as separators ("crossfade to", "dissolve to", "whip pan to",
  "fade to black"); at most 6 shots;
- per-shot lengths from the times the prompt gives (`[0-4s]`, `Shot 2 (3s):`), else an even
  split; cuts between untimed shots snapped to the soundtrack's beats when beats are given;
- per shot: camera move and speed, handheld shake, subject actions, look (carried over from the
  shot before when a shot names none), quoted dialogue, a reference video's motion, the images
  it shows and the one it names as the place, and how it is joined to the shot before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from reelforge.planning.actions import find_actions
from reelforge.planning.camera import find_camera, find_shake, following_moves
from reelforge.planning.dialogue import find_dialogue, speech_seconds
from reelforge.planning.looks import find_letterbox, find_look
from reelforge.planning.mentions import find_mentions, iter_mentions, mention_label
from reelforge.planning.model import (
    CameraMove,
    Look,
    Shot,
    ShotPlan,
    Transition,
)
from reelforge.planning.references import (
    RefInfo,
    motion_videos,
    pinned_image,
    soundtrack_index,
    soundtrack_ref,
)
from reelforge.planning.timing import (
    auto_seconds,
    duration_phrase,
    shot_lengths,
    snap_to_beats,
)
from reelforge.spec import ReferenceKind, ReferenceRole

__all__ = ["choose_seconds", "plan_shots"]

MAX_SHOTS = 6
# A prompt that names no camera move gets a slow push-in, the gentle motion viewers expect
# of a video; "static" (or "locked-off") asks for a still camera.
UNNAMED_CAMERA = (CameraMove.ZOOM_IN, 0.5)

# "Shot 2:", "[Shot 2]", "shot 2 -", "Shot 2 (3s):".
_SHOT_MARK = re.compile(
    r"\[?\bshot\s*#?\s*\d+\s*(?:\(\s*(?P<dur>\d+(?:\.\d+)?)\s*(?:s|sec|secs|seconds?)\s*\)\s*)?"
    r"(?:[:.)\]\-\u2013\u2014]|$)\]?",
    re.IGNORECASE,
)
_CUT_TO = re.compile(
    r"\b(?:hard\s+|smash\s+|jump\s+|match\s+)?cut(?:s|ting)?\s+(?:back\s+)?to\b\s*[:,\-]?",
    re.IGNORECASE,
)
# Transitions that also mark a new shot.
_JOIN_MARK = re.compile(
    r"\b(?:(?P<xf>cross[\s-]?fad(?:e|es|ing)|dissolv(?:e|es|ing))\s+to\b"
    r"|(?P<xf2>cross[\s-]?fad(?:e|es|ing))\s+into\b"
    r"|(?P<whip>whip[\s-]?pan(?:s|ning)?)\s+(?:in)?to\b"
    r"|(?P<black>(?:fad(?:e|es|ed|ing)|dip(?:s|ping)?)\s+(?:out\s+)?to\s+black)"
    r"(?:\s*[,.;:]?\s*(?:and\s+)?then\b)?"
    r")\s*[:,\-]?",
    re.IGNORECASE,
)
_TIME = r"(?:\d+:)?\d+(?:\.\d+)?"
_TIMED_MARK = re.compile(
    rf"[\[(]\s*(?P<a>{_TIME})\s*s?\s*(?:-|\u2013|\u2014|~|to)\s*(?P<b>{_TIME})\s*"
    r"(?:s|sec|secs|seconds)?\s*[\])]\s*[:.\-\u2013\u2014]?"
    rf"|^[ \t]*(?P<a2>{_TIME})\s*s?\s*(?:-|\u2013|\u2014|to)\s*(?P<b2>{_TIME})\s*"
    r"(?:s|sec|secs|seconds)\s*[:.)\-\u2013\u2014]",
    re.IGNORECASE | re.MULTILINE,
)

# Words of a shot's own text that name its join: at its start ("Shot 2: Dissolve. ..."), or in
# brackets anywhere ("[crossfade]").
_JOIN_WORDS: tuple[tuple[Transition, str], ...] = (
    (Transition.CROSSFADE, r"cross[\s-]?fad\w*|dissolv\w*|blend\w*\s+into"),
    (Transition.WHIP_PAN, r"whip[\s-]?pan\w*|swish[\s-]?pan\w*"),
    (
        Transition.FADE_BLACK,
        r"fade\w*\s+(?:up\s+)?from\s+black|fade\w*\s+in|dip\w*\s+to\s+black|fade\w*\s+to\s+black",
    ),
    (Transition.CUT, r"(?:hard|smash|jump|match)\s+cut|cut"),
)
_JOIN_RES = tuple((t, re.compile(rf"\b(?:{w})\b", re.IGNORECASE)) for t, w in _JOIN_WORDS)
_LEADING = re.compile(r"^\W*(?:(?:a|an|the|with|then|quick|slow|fast)\s+)*", re.IGNORECASE)
_BRACKETED = re.compile(r"[\[(]([^\])]{1,30})[\])]")
_FADE_IN = re.compile(
    r"\bfad(?:e|es|ing)\s+(?:in|up)\b|\bfrom\s+black\b|\bopens?\s+(?:on|from)\s+black\b",
    re.IGNORECASE,
)
_FADE_OUT = re.compile(
    r"\bfad(?:e|es|ing)\s+(?:out|to\s+black)\W*$|\bends?\s+(?:with|on|in)\s+(?:a\s+)?fade\b"
    r"|\bfade\s+out\s+at\s+the\s+end\b",
    re.IGNORECASE,
)

# Words that make a mentioned image the place where things happen rather than a subject.
_PLACE_BEFORE = re.compile(
    r"\b(?:in|inside|into|through|at|across|within|amid|amidst|background(?:\s+is)?|setting"
    r"(?:\s+is)?|backdrop(?:\s+is)?|location(?:\s+is)?|environment(?:\s+is)?|scene\s+of)"
    r"\s*[:=]?\s*(?:the\s+|a\s+|an\s+)?(?:\w+\s+(?:of|from)\s+)?$",
    re.IGNORECASE,
)
_PLACE_AFTER = re.compile(
    r"^\s*(?:as|is|for)\s+(?:the\s+|a\s+)?(?:background|setting|backdrop|location|environment"
    r"|scene|place)\b",
    re.IGNORECASE,
)


@dataclass
class _Segment:
    """One shot's text and what the markers around it said."""

    text: str
    join: Transition | None = None  # named by the marker before it
    start: float | None = None  # "[4-8s]": 4
    end: float | None = None  # "[4-8s]": 8
    seconds: float | None = None  # "Shot 2 (3s):": 3


@dataclass
class _Split:
    preamble: str
    segments: list[_Segment]
    trailing_join: Transition | None  # a join marker after the last shot ("... fade to black")


def plan_shots(
    prompt: str,
    num_frames: int,
    fps: int,
    image_count: int | None = None,
    *,
    references: Sequence[RefInfo] = (),
    beats: Sequence[float] = (),
) -> ShotPlan:
    """Read a prompt into shots. Pure text and reference metadata, no pixels.

    `image_count` is the number of image references (@Image1..N); by default it is counted from
    `references`, which also give the first/last frame images (by role), the soundtrack and the
    videos. `beats` are the soundtrack's beat times in seconds: cuts between untimed shots move
    to the nearest beat.
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    if fps < 1:
        raise ValueError(f"fps must be >= 1, got {fps}")
    if image_count is None:
        image_count = max((r.index for r in references if r.kind is ReferenceKind.IMAGE), default=0)
    if image_count < 0:
        raise ValueError(f"image_count must be >= 0, got {image_count}")

    split = _split_shots(prompt)
    preamble, segments = split.preamble, split.segments
    if len(segments) > MAX_SHOTS:
        segments = [*segments[: MAX_SHOTS - 1], _merge(segments[MAX_SHOTS - 1 :])]
    if not segments:
        segments = [_Segment(prompt.strip())]
    # Never more shots than frames; the shots past the last frame are dropped.
    segments = segments[:num_frames]
    count = len(segments)

    explicit = _explicit_seconds(segments)
    lengths = shot_lengths(explicit, num_frames, fps)
    timed = [e is not None for e in explicit]
    if beats:
        movable = [not (timed[k] or timed[k + 1]) for k in range(count - 1)]
        lengths = snap_to_beats(lengths, movable, beats, fps)

    in_range = range(1, image_count + 1)
    first_frame = pinned_image(references, ReferenceRole.FIRST_FRAME)
    last_frame = pinned_image(references, ReferenceRole.LAST_FRAME)
    pinned = {first_frame, last_frame} - {None}
    everywhere = [i for i in _image_mentions(preamble) if i in in_range]
    mentioned = {i for seg in segments for i in _image_mentions(seg.text)} | set(everywhere)
    unmentioned = [i for i in in_range if i not in mentioned and i not in pinned]
    default_camera = find_camera(preamble)
    default_shake = find_shake(preamble)
    default_background = _background_mention(preamble, in_range)
    default_join = _join_words(preamble, anywhere=True)
    default_motion = _motion_video(preamble)

    shots: list[Shot] = []
    start = 0
    look = find_look(preamble) or Look.NONE
    for i, (seg, length) in enumerate(zip(segments, lengths, strict=True)):
        text = seg.text
        own = [idx for idx in _image_mentions(text) if idx in in_range]
        indices = _unique([*own, *everywhere, *unmentioned])
        background = _background_mention(text, in_range) or default_background
        camera, speed = find_camera(text) or default_camera or UNNAMED_CAMERA
        then = following_moves(text, camera) if camera is not CameraMove.STATIC else ()
        shake = find_shake(text)
        if shake is None:
            shake = default_shake or 0.0
        if shake and find_camera(text) is None and default_camera is None:
            camera, speed = CameraMove.STATIC, 1.0  # "handheld" alone: a held camera, no move
        motion = _motion_video(text) or default_motion
        if motion is not None:
            camera, speed, then = CameraMove.FROM_VIDEO, 1.0, ()
        look = find_look(text) or look
        dialogue = find_dialogue(text)
        if i == 0 and preamble:
            dialogue = find_dialogue(preamble) + dialogue
        shots.append(
            Shot(
                index=i,
                start_frame=start,
                num_frames=length,
                prompt=text,
                camera=camera,
                speed=speed,
                image_indices=tuple(indices),
                background_image=background if background in indices else None,
                shake=shake,
                actions=find_actions(text, in_range),
                transition=_join_of(segments, i, default_join),
                look=look,
                dialogue=dialogue,
                motion_video=motion,
                timed=timed[i],
                then=then,
            )
        )
        start += length

    labels = tuple(mention_label(kind, idx) for kind, idx in find_mentions(prompt))
    fade_in = first_frame is None and bool(
        _FADE_IN.search(preamble) or _FADE_IN.search(_head(segments[0].text))
    )
    fade_out = last_frame is None and (
        split.trailing_join is Transition.FADE_BLACK
        or bool(_FADE_OUT.search(segments[-1].text) or _FADE_OUT.search(preamble))
    )
    seconds = num_frames / fps
    return ShotPlan(
        shots=tuple(shots),
        fps=fps,
        num_frames=num_frames,
        mentions=labels,
        first_frame=first_frame,
        last_frame=last_frame,
        letterbox=find_letterbox(prompt),
        fade_in=fade_in,
        fade_out=fade_out,
        soundtrack=soundtrack_index(prompt, references),
        beats=tuple(round(float(b), 3) for b in beats if 0.0 <= b < seconds) if count > 1 else (),
    )


def choose_seconds(prompt: str, references: Sequence[RefInfo] = ()) -> int:
    """The clip length for `duration: auto`, from the prompt (timed shots, per-shot lengths, a
    stated length, the number of shots, the dialogue) and the references (the soundtrack's
    length, else a reference video's). Whole seconds in 1..15."""
    split = _split_shots(prompt)
    segments = split.segments or [_Segment(prompt.strip())]
    segments = segments[:MAX_SHOTS]
    ends = [s.end for s in segments if s.end is not None]
    explicit = _explicit_seconds(segments)
    explicit_total = sum(e for e in explicit if e is not None) if all(explicit) else None
    lines = find_dialogue(prompt)
    audio = soundtrack_ref(prompt, references)
    videos = sorted(
        (r for r in references if r.kind is ReferenceKind.VIDEO and r.seconds),
        key=lambda r: r.index,
    )
    return auto_seconds(
        timed_end=max(ends) if ends else None,
        explicit_total=explicit_total,
        stated=duration_phrase(prompt),
        shot_count=len(segments),
        speech=speech_seconds(lines) if lines else 0.0,
        soundtrack=audio.seconds if audio is not None else None,
        video=videos[0].seconds if videos else None,
    )


# --- splitting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mark:
    start: int
    end: int
    opens_shot: bool  # `Shot N:` / timed marks: text before the first one is context
    join: Transition | None = None
    time: tuple[float, float] | None = None
    seconds: float | None = None


def _marks(prompt: str) -> list[_Mark]:
    marks: list[_Mark] = []
    for m in _SHOT_MARK.finditer(prompt):
        dur = m.group("dur")
        marks.append(_Mark(m.start(), m.end(), True, seconds=float(dur) if dur else None))
    for m in _TIMED_MARK.finditer(prompt):
        a, b = m.group("a") or m.group("a2"), m.group("b") or m.group("b2")
        marks.append(_Mark(m.start(), m.end(), True, time=(_seconds(a), _seconds(b))))
    for m in _CUT_TO.finditer(prompt):
        marks.append(_Mark(m.start(), m.end(), False, join=Transition.CUT))
    for m in _JOIN_MARK.finditer(prompt):
        if m.group("xf") or m.group("xf2"):
            join = Transition.CROSSFADE
        elif m.group("whip"):
            join = Transition.WHIP_PAN
        else:
            join = Transition.FADE_BLACK
        marks.append(_Mark(m.start(), m.end(), False, join=join))
    marks.sort(key=lambda k: (k.start, -k.end))
    kept: list[_Mark] = []
    for mark in marks:  # overlapping marks: the first (longest) wins
        if kept and mark.start < kept[-1].end:
            continue
        kept.append(mark)
    return kept


def _seconds(text: str) -> float:
    if ":" in text:
        minutes, _, secs = text.partition(":")
        return 60.0 * int(minutes) + float(secs)
    return float(text)


def _split_shots(prompt: str) -> _Split:
    marks = _marks(prompt)
    if not marks:
        text = prompt.strip()
        return _Split("", [_Segment(text)] if text else [], None)
    segments: list[_Segment] = []
    preamble = ""
    head = prompt[: marks[0].start].strip()
    if marks[0].opens_shot:
        preamble = head
    elif head:
        segments.append(_Segment(head))
    pending = _Segment("")
    for n, mark in enumerate(marks):
        stop = marks[n + 1].start if n + 1 < len(marks) else len(prompt)
        # Information of consecutive marks ("cut to [4-8s]") adds up on the next shot.
        if mark.join is not None and (pending.join in (None, Transition.CUT)):
            pending.join = mark.join
        if mark.time is not None:
            pending.start, pending.end = mark.time
        if mark.seconds is not None:
            pending.seconds = mark.seconds
        text = prompt[mark.end : stop].strip().lstrip(".,;:!-\u2013\u2014 ").strip()
        if text:
            pending.text = text
            segments.append(pending)
            pending = _Segment("")
    trailing = pending.join if not pending.text else None
    return _Split(preamble, segments, trailing)


def _merge(segments: list[_Segment]) -> _Segment:
    first, last = segments[0], segments[-1]
    seconds = None
    if all(s.seconds is not None for s in segments):
        seconds = sum(s.seconds or 0.0 for s in segments)
    return _Segment(
        text=" ".join(s.text for s in segments),
        join=first.join,
        start=first.start,
        end=last.end if last.end is not None else None,
        seconds=seconds,
    )


def _explicit_seconds(segments: list[_Segment]) -> list[float | None]:
    """Each shot's length where the prompt gives it: "(3s)", or a time range (up to the next
    range's start, so a gap belongs to the shot before it)."""
    out: list[float | None] = []
    for k, seg in enumerate(segments):
        if seg.seconds is not None:
            out.append(seg.seconds)
        elif seg.start is not None and seg.end is not None:
            nxt = segments[k + 1].start if k + 1 < len(segments) else None
            end = nxt if nxt is not None and nxt > seg.start else seg.end
            out.append(max(0.0, end - seg.start) or None)
        else:
            out.append(None)
    return out


# --- transitions -------------------------------------------------------------------------------


def _head(text: str) -> str:
    return text[:40]


def _join_words(text: str, anywhere: bool) -> Transition | None:
    """The join a text names: anywhere in it (a preamble: "with crossfades between shots"), or
    at its start and in brackets (a shot's own text)."""
    if anywhere:
        return _first_join(text)
    lead = _LEADING.sub("", text)
    for transition, pattern in _JOIN_RES:
        m = pattern.match(lead)
        if m is not None:
            return transition
    for inner in _BRACKETED.findall(text):
        found = _first_join(inner)
        if found is not None:
            return found
    return None


def _first_join(text: str) -> Transition | None:
    best: tuple[int, Transition] | None = None
    for transition, pattern in _JOIN_RES:
        m = pattern.search(text)
        if m is not None and (best is None or m.start() < best[0]):
            best = (m.start(), transition)
    return best[1] if best else None


def _join_of(segments: list[_Segment], i: int, default: Transition | None) -> Transition:
    """How shot i is joined to shot i - 1: its marker's word, else the words at the start of its
    text, else "fade out" at the end of the previous shot's text, else the preamble's default."""
    if i == 0:
        return Transition.CUT
    seg = segments[i]
    if seg.join is not None and seg.join is not Transition.CUT:
        return seg.join
    own = _join_words(seg.text, anywhere=False)
    if own is not None:
        return own
    if _FADE_OUT.search(segments[i - 1].text):
        return Transition.FADE_BLACK
    if seg.join is Transition.CUT:
        return Transition.CUT
    return default or Transition.CUT


# --- references in text ----------------------------------------------------------------------


def _image_mentions(text: str) -> list[int]:
    return [idx for kind, idx in find_mentions(text) if kind is ReferenceKind.IMAGE]


def _motion_video(text: str) -> int | None:
    """The first @VideoN the text names as a motion source (engines check that it exists)."""
    found = motion_videos(text)
    return found[0] if found else None


def _background_mention(text: str, valid: range) -> int | None:
    """The image a text names as the place ("walks in @Image2", "@Image3 as the background")."""
    for m in iter_mentions(text):
        if m.kind is not ReferenceKind.IMAGE or m.index not in valid:
            continue
        if _PLACE_BEFORE.search(text[max(0, m.start - 40) : m.start]) or _PLACE_AFTER.search(
            text[m.end : m.end + 40]
        ):
            return m.index
    return None


def _unique(items: list[int]) -> list[int]:
    return list(dict.fromkeys(items))
