"""Planned continuation (issue 16 item 6): past 15 s a long shot is continued in parts of at
most 10 s with the same subjects, plate and look; entrances in the first part, exits in the
last, dialogue where it was written, crossfades between parts; within 15 s nothing changes."""

from __future__ import annotations

from reelforge.planning.continuation import PART_SECONDS, continue_plan
from reelforge.planning.model import Action, CameraMove, Transition
from reelforge.planning.shots import plan_shots

FPS = 24


def test_a_clip_within_the_hosted_length_is_left_as_planned() -> None:
    plan = plan_shots("@Image1 in @Image2, slow pan left", 15 * FPS, FPS, 2)
    assert continue_plan(plan) is plan


def test_a_long_shot_is_continued_with_the_same_subjects_and_plate() -> None:
    prompt = '@Image1 enters from the left and walks right in @Image2, pan left. @Image1 says "hi"'
    plan = plan_shots(prompt, 45 * FPS, FPS, 2)
    assert len(plan.shots) == 1
    long = continue_plan(plan)
    shots = long.shots
    assert len(shots) == 5 and long.num_frames == plan.num_frames
    assert all(s.num_frames <= PART_SECONDS * FPS for s in shots)
    # contiguous, renumbered
    assert [s.index for s in shots] == list(range(5))
    assert [s.start_frame for s in shots] == [
        sum(x.num_frames for x in shots[:k]) for k in range(5)
    ]
    assert sum(s.num_frames for s in shots) == 45 * FPS
    first = plan.shots[0]
    for s in shots:
        assert s.image_indices == first.image_indices
        assert s.background_image == first.background_image == 2
        assert (s.look, s.shake, s.prompt) == (first.look, first.shake, first.prompt)
    assert [s.transition for s in shots[1:]] == [Transition.CROSSFADE] * 4
    # the camera goes back and forth over the same plate
    assert [s.camera for s in shots] == [CameraMove.PAN_LEFT, CameraMove.PAN_RIGHT] * 2 + [
        CameraMove.PAN_LEFT
    ]
    actions = [{c.action for c in s.actions} for s in shots]
    assert Action.ENTER_LEFT in actions[0] and not any(Action.ENTER_LEFT in a for a in actions[1:])
    # the dialogue is said once, where the prompt put it (the start of the shot)
    assert shots[0].dialogue == first.dialogue and first.dialogue
    assert all(s.dialogue == () for s in shots[1:])


def test_exits_play_in_the_last_part_and_written_shots_keep_their_joins() -> None:
    prompt = (
        "Shot 1: @Image1 in @Image2, dolly in. "
        "Fade to black. Shot 2: @Image1 exits to the right, static camera"
    )
    plan = plan_shots(prompt, 50 * FPS, FPS, 2)
    assert len(plan.shots) == 2
    long = continue_plan(plan)
    assert len(long.shots) == 6  # two 25 s shots, three parts each
    second = [s for s in long.shots if s.prompt == plan.shots[1].prompt]
    assert second[0].transition is plan.shots[1].transition is Transition.FADE_BLACK
    exits = [any(c.action is Action.EXIT_RIGHT for c in s.actions) for s in second]
    assert exits == [False, False, True]
