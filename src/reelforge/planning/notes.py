"""What the planner cannot do with a prompt, said before the job is accepted.

`prompt_notes` reads the prompt as the planner will and returns what it would leave out, each
with the characters of the prompt it is about; `count_shots` is how many shots it asks for
(more than `MAX_SHOTS` is refused at create rather than merged).
"""

from __future__ import annotations

from dataclasses import dataclass

from reelforge import codes
from reelforge.planning.camera import all_camera_moves
from reelforge.planning.shots import MAX_SHOTS, _split_shots


@dataclass(frozen=True)
class PromptNote:
    code: str
    message: str
    span: tuple[int, int]  # characters of the prompt


CAMERA_MOVES_DROPPED = codes.PROMPT_CAMERA_MOVES_DROPPED


def count_shots(prompt: str) -> int:
    return len(_split_shots(prompt).segments)


def prompt_notes(prompt: str) -> list[PromptNote]:
    """For a planner that renders one camera move per shot: every further move named in a shot,
    as a note with its span (the first move of each shot is the one rendered)."""
    notes: list[PromptNote] = []
    cursor = 0
    for number, segment in enumerate(_split_shots(prompt).segments[:MAX_SHOTS], start=1):
        offset = prompt.find(segment.text, cursor)
        if offset < 0:
            continue
        cursor = offset + len(segment.text)
        moves = all_camera_moves(segment.text)
        distinct = [m for i, m in enumerate(moves) if m[2] not in {x[2] for x in moves[:i]}]
        if len(distinct) < 2:
            continue
        first = distinct[0][2].value.replace("_", " ")
        for start, end, move in distinct[1:]:
            notes.append(
                PromptNote(
                    CAMERA_MOVES_DROPPED,
                    f"shot {number} names more than one camera move; this engine renders one "
                    f"move per shot ({first}), not {move.value.replace('_', ' ')}: split the "
                    "moves into shots (e.g. 'Shot 2: ...') to have both",
                    (offset + start, offset + end),
                )
            )
    return notes
