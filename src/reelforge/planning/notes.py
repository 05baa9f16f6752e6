"""What the planner cannot do with a prompt, said before the job is accepted.

`prompt_notes` reads the prompt as the planner will and returns what it would leave out (camera
moves beyond the ones a shot plays in sequence), each with the characters of the prompt it is
about; `count_shots` is how many shots it asks for
(more than `MAX_SHOTS` is refused at create rather than merged).
"""

from __future__ import annotations

from dataclasses import dataclass

from reelforge import codes
from reelforge.planning.camera import MAX_MOVES_PER_SHOT, move_sequence
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
    """Every camera move a shot names beyond the `MAX_MOVES_PER_SHOT` that the planner plays in
    sequence, as a note with its span."""
    notes: list[PromptNote] = []
    cursor = 0
    for number, segment in enumerate(_split_shots(prompt).segments[:MAX_SHOTS], start=1):
        offset = prompt.find(segment.text, cursor)
        if offset < 0:
            continue
        cursor = offset + len(segment.text)
        moves = move_sequence(segment.text)
        played = ", then ".join(m[2].value.replace("_", " ") for m in moves[:MAX_MOVES_PER_SHOT])
        for start, end, move, _speed in moves[MAX_MOVES_PER_SHOT:]:
            notes.append(
                PromptNote(
                    CAMERA_MOVES_DROPPED,
                    f"shot {number} names more than {MAX_MOVES_PER_SHOT} camera moves; this "
                    f"engine plays {MAX_MOVES_PER_SHOT} in sequence ({played}), not "
                    f"{move.value.replace('_', ' ')}: split the moves into shots "
                    "(e.g. 'Shot 2: ...') to have them all",
                    (offset + start, offset + end),
                )
            )
    return notes
