"""Camera vocabulary: the words of a prompt that name a camera move, and how fast it is.

Pure text. The first move named leads (`find_camera`); further ones in the same shot follow it
in the order written, up to `MAX_MOVES_PER_SHOT` (`following_moves`). A move's speed comes from
words in the same clause, so "a fast car, the camera slowly zooms in" is a slow zoom. Handheld
shake is not a move but a modifier of any move ("handheld pan left"): `find_shake` reads it on
its own.
"""

from __future__ import annotations

import re

from reelforge.planning.model import CameraCue, CameraMove, Shot

# Moves one shot plays in sequence; further ones are reported (planning.notes), not rendered.
MAX_MOVES_PER_SHOT = 3

SLOW = 0.5
NORMAL = 1.0
FAST = 2.0

# Word forms: "zoom in", "zooms in", "zooming into", "push-in", "pushes in", ...
_IN = r"(?:in(?:to|ward|wards)?|closer|forward)"
_OUT = r"(?:out(?:ward|wards)?|back(?:ward|wards)?|away)"
_LEFT = r"(?:to\s+the\s+)?left(?:ward|wards)?"
_RIGHT = r"(?:to\s+the\s+)?right(?:ward|wards)?"
_UP = r"(?:up(?:ward|wards)?)"
_DOWN = r"(?:down(?:ward|wards)?)"
# "moves in" alone is often the subject moving, so it only counts with "camera" before it.
_CAM_MOVES = (
    r"\bcamera\s+(?:\w+ly\s+)?(?:moves?|moving|travels?|travelling|traveling|creeps?|glides?)"
)
_AROUND = r"(?:\s+(?:around|round)(?:\s+(?:the|a|an|him|her|it|them)(?:\s+\w+)?)?)?"


_CRANE = r"(?:\bcran(?:e|es|ed|ing)|\bboom(?:s|ed|ing)?|\bpedestal(?:s|ing)?)"


def _verb(stem: str) -> str:
    return rf"\b{stem}(?:s|es|ed|ing)?"


# Order matters where phrases overlap: orbit before pan, dolly/push before zoom.
_PATTERNS: tuple[tuple[CameraMove, str], ...] = (
    (
        CameraMove.ORBIT_LEFT,
        rf"(?:{_verb('orbit')}|{_verb('arc')}|{_verb('circl')}){_AROUND}"
        rf"(?:\s+\w+)?\s+{_LEFT}\b",
    ),
    (
        CameraMove.ORBIT_RIGHT,
        rf"(?:{_verb('orbit')}|{_verb('arc')}|{_verb('circl')}){_AROUND}"
        rf"(?:\s+\w+)?\s+{_RIGHT}\b",
    ),
    # An orbit with no direction: the usual default is to the right (counter-clockwise).
    (CameraMove.ORBIT_RIGHT, rf"{_verb('orbit')}\b|\b360\b|\bturntable\b"),
    (
        CameraMove.DOLLY_IN,
        rf"(?:{_verb('dolly')}|{_verb('dollie')}|{_verb('push')}|{_CAM_MOVES})"
        rf"[\s-]+{_IN}\b",
    ),
    (
        CameraMove.DOLLY_OUT,
        rf"(?:{_verb('dolly')}|{_verb('dollie')}|{_verb('pull')}|{_CAM_MOVES})"
        rf"[\s-]+{_OUT}\b",
    ),
    (
        CameraMove.CRANE_DOWN,
        rf"{_CRANE}(?:\s+shot)?[\s-]+{_DOWN}\b"
        r"|\bcamera\s+(?:\w+ly\s+)?(?:descends?|descending|lowers?|lowering|sinks?|drops?)\b",
    ),
    (
        CameraMove.CRANE_UP,
        rf"{_CRANE}(?:\s+shot)?[\s-]+{_UP}\b"
        r"|\bcamera\s+(?:\w+ly\s+)?(?:rises?|rising|ascends?|ascending|lifts?|climbs?)\b"
        # A crane with no direction rises ("crane" alone may be the bird: it needs "shot").
        r"|\bcrane\s+shot\b|\bcamera\s+cranes?\b(?![\s-]+down)|\bcraning\s+shot\b",
    ),
    (CameraMove.ZOOM_IN, rf"{_verb('zoom')}[\s-]+{_IN}\b|{_verb('zoom')}\b(?![\s-]+{_OUT})"),
    (CameraMove.ZOOM_OUT, rf"{_verb('zoom')}[\s-]+{_OUT}\b"),
    (CameraMove.PAN_LEFT, rf"{_verb('pan')}[\s-]+{_LEFT}\b"),
    (CameraMove.PAN_RIGHT, rf"{_verb('pan')}[\s-]+{_RIGHT}\b"),
    (CameraMove.TILT_UP, rf"{_verb('tilt')}[\s-]+{_UP}\b"),
    (CameraMove.TILT_DOWN, rf"{_verb('tilt')}[\s-]+{_DOWN}\b"),
    (
        CameraMove.STATIC,
        r"\bstatic\b|\blocked[\s-]off\b|\bstill\s+camera\b|\bfixed\s+camera\b"
        r"|\bcamera\s+(?:is\s+)?(?:still|fixed|locked)\b|\bno\s+camera\s+move",
    ),
)
_COMPILED = tuple((move, re.compile(p, re.IGNORECASE)) for move, p in _PATTERNS)

_SLOW_WORDS = re.compile(
    r"\b(?:slow|slowly|gentle|gently|subtle|subtly|gradual|gradually)\b", re.IGNORECASE
)
_FAST_WORDS = re.compile(r"\b(?:fast|quick|quickly|rapid|rapidly|swift|swiftly)\b", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[.;,!?\n]")


# Handheld: a modifier of any move, with its own strength words.
_SHAKE = re.compile(
    r"\bhand[\s-]?held\b|\bshaky[\s-]?cam(?:era)?\b|\bcamera\s+shake\b|\bcamera\s+shakes\b"
    r"|\bshak(?:y|ing)\s+camera\b|\bjittery\s+camera\b|\bcamera\s+(?:jitters?|wobbles?)\b"
    r"|\bdocumentary[\s-]style\s+camera\b",
    re.IGNORECASE,
)
_LIGHT_SHAKE = re.compile(r"\b(?:slight(?:ly)?|subtle|gentle|light(?:ly)?|soft)\b", re.IGNORECASE)
_HEAVY_SHAKE = re.compile(
    r"\b(?:heavy|heavily|violent(?:ly)?|strong(?:ly)?|intense|wild(?:ly)?|very\s+shaky)\b",
    re.IGNORECASE,
)


def find_shake(text: str) -> float | None:
    """The handheld shake a text asks for (0.5 slight, 1.0, 2.0 heavy), None when it names none."""
    m = _SHAKE.search(text)
    if m is None:
        return None
    clause = _clause(text, m.start())
    if _HEAVY_SHAKE.search(clause):
        return 2.0
    if _LIGHT_SHAKE.search(clause):
        return 0.5
    return 1.0


def parse_camera(text: str) -> tuple[CameraMove, float]:
    """The first camera move named in `text` and its speed factor (0.5 slow, 1.0, 2.0 fast).

    Text that names no move gives (STATIC, 1.0).
    """
    found = find_camera(text)
    return found if found is not None else (CameraMove.STATIC, NORMAL)


def find_camera(text: str) -> tuple[CameraMove, float] | None:
    """Like `parse_camera`, but None when the text names no camera move at all (so a caller can
    fall back to the move of a surrounding text)."""
    best: tuple[int, int, CameraMove] | None = None
    for rank, (move, pattern) in enumerate(_COMPILED):
        m = pattern.search(text)
        if m is None:
            continue
        key = (m.start(), rank, move)
        if best is None or key[:2] < best[:2]:
            best = key
    if best is None:
        return None
    start = best[0]
    if best[2] is CameraMove.STATIC:
        return CameraMove.STATIC, NORMAL
    return best[2], _clause_speed(text, start)


def all_camera_moves(text: str) -> list[tuple[int, int, CameraMove]]:
    """Every camera move `text` names, in order of appearance, as (start, end, move); overlapping
    matches (one phrase read as two moves) count once, `static` is not a move."""
    found: list[tuple[int, int, int, CameraMove]] = []
    for rank, (move, pattern) in enumerate(_COMPILED):
        if move is CameraMove.STATIC:
            continue
        found += [(m.start(), m.end(), rank, move) for m in pattern.finditer(text)]
    moves: list[tuple[int, int, CameraMove]] = []
    for start, end, _rank, move in sorted(found):
        if moves and start < moves[-1][1]:
            continue
        moves.append((start, end, move))
    return moves


def move_sequence(text: str) -> list[tuple[int, int, CameraMove, float]]:
    """The camera moves a text names, in the order written, as (start, end, move, speed): a move
    that repeats the one before it ("zoom in, zooming in further") counts once."""
    out: list[tuple[int, int, CameraMove, float]] = []
    for start, end, move in all_camera_moves(text):
        if out and out[-1][2] is move:
            continue
        out.append((start, end, move, _clause_speed(text, start)))
    return out


def following_moves(text: str, first: CameraMove) -> tuple[CameraCue, ...]:
    """The moves after the first one (`first`, which `find_camera` gives), at most
    `MAX_MOVES_PER_SHOT - 1` of them."""
    rest = move_sequence(text)[1:]
    if rest and rest[0][2] is first:
        rest = rest[1:]
    return tuple(CameraCue(move, speed) for _, _, move, speed in rest[: MAX_MOVES_PER_SHOT - 1])


def camera_steps(shot: Shot) -> list[tuple[CameraMove, float, int, int]]:
    """The shot's moves as (move, speed, first frame within the shot, frames): its frames shared
    evenly between `camera` and the moves in `then`, in that order."""
    moves = [(shot.camera, shot.speed), *((c.move, c.speed) for c in shot.then)]
    n = shot.num_frames
    bounds = [round(k * n / len(moves)) for k in range(len(moves) + 1)]
    return [
        (move, speed, bounds[k], bounds[k + 1] - bounds[k]) for k, (move, speed) in enumerate(moves)
    ]


def _clause(text: str, pos: int) -> str:
    """The clause (between , ; . ! ? or newlines) around position `pos`."""
    breaks_before = [m.end() for m in _CLAUSE_BREAK.finditer(text, 0, pos)]
    begin = breaks_before[-1] if breaks_before else 0
    after = _CLAUSE_BREAK.search(text, pos)
    end = after.start() if after else len(text)
    return text[begin:end]


def clause_speed(text: str, pos: int) -> float:
    """The speed words of the clause around `pos`: 0.5 slow, 2.0 fast, else 1.0."""
    return _clause_speed(text, pos)


def _clause_speed(text: str, pos: int) -> float:
    clause = _clause(text, pos)
    if _SLOW_WORDS.search(clause):
        return SLOW
    if _FAST_WORDS.search(clause):
        return FAST
    return NORMAL
