"""The plan's vocabulary beyond camera moves: subject actions, joins between shots, looks,
handheld and crane, dialogue, letterbox, motion videos, first/last frame roles. Pure text."""

from __future__ import annotations

from pathlib import Path

import pytest

from reelforge.core.references import StoredReference
from reelforge.planning.actions import find_actions
from reelforge.planning.camera import find_shake, parse_camera
from reelforge.planning.dialogue import find_dialogue
from reelforge.planning.looks import find_letterbox, find_look
from reelforge.planning.model import Action, ActionCue, CameraMove, Look, Transition
from reelforge.planning.references import motion_videos, soundtrack_index
from reelforge.planning.serialize import plan_from_dict
from reelforge.planning.shots import plan_shots
from reelforge.spec import ReferenceKind, ReferenceRole
from tests.media_helpers import local_ref


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@Image1 enters from the left", [(Action.ENTER_LEFT, 1)]),
        ("a fox runs in from the right side", [(Action.ENTER_RIGHT, None)]),
        ("@Image2 enters the frame", [(Action.ENTER_LEFT, 2)]),
        ("@Image1 exits to the left", [(Action.EXIT_LEFT, 1)]),
        ("@Image1 walks off the screen", [(Action.EXIT_RIGHT, 1)]),
        ("@Image1 walks across the street", [(Action.WALK_RIGHT, 1)]),
        ("@Image1 walks across from right to left", [(Action.WALK_LEFT, 1)]),
        ("a car drives to the left", [(Action.WALK_LEFT, None)]),
        ("@Image1 and @Image2 walk across", [(Action.WALK_RIGHT, 1), (Action.WALK_RIGHT, 2)]),
        ("@Image3 slowly rotates", [(Action.ROTATE, 3)]),
        ("the bottle spins", [(Action.ROTATE, None)]),
        ("@Image1 turns around", [(Action.ROTATE, 1)]),
        ("@Image1 tumbles", [(Action.TUMBLE, 1)]),
        ("@Image1 floats above the lake", [(Action.FLOAT, 1)]),
        ("@Image1 bounces and grows", [(Action.BOUNCE, 1), (Action.GROW, 1)]),
        ("@Image1 hops", [(Action.BOUNCE, 1)]),
        ("@Image2 walks toward the camera", [(Action.GROW, 2)]),
        ("@Image2 shrinks into the distance", [(Action.SHRINK, 2)]),
        # Not actions: the camera's verbs, a grown man, autumn leaves, walking *in* a place.
        ("the camera moves closer to @Image1", []),
        ("a grown man sits; autumn leaves fall", []),
        ("@Image1 walks in @Image2", []),
    ],
)
def test_actions_and_their_doers(text: str, expected: list[tuple[Action, int | None]]) -> None:
    assert [(c.action, c.image) for c in find_actions(text)] == expected


def test_action_speed_comes_from_its_clause() -> None:
    (cue,) = find_actions("a fast car passes, @Image1 slowly floats")
    assert cue == ActionCue(Action.FLOAT, 1, 0.5)


@pytest.mark.parametrize(
    ("text", "look"),
    [
        ("golden hour on the beach", Look.GOLDEN_HOUR),
        ("a street at sunset", Look.GOLDEN_HOUR),
        ("a city at night", Look.NIGHT),
        ("film noir detective", Look.NOIR),
        ("black and white", Look.NOIR),
        ("vintage super 8 home movie", Look.VINTAGE),
        ("neon-lit alley", Look.NEON),
        ("warm candlelight", Look.WARM),
        ("cool tones, winter morning", Look.COOL),
    ],
)
def test_look_words(text: str, look: Look) -> None:
    assert find_look(text) is look


def test_no_look_in_plain_words() -> None:
    assert find_look("a cool car in the city") is None


@pytest.mark.parametrize(
    ("text", "aspect"),
    [
        ("letterboxed, moody", 21 / 9),
        ("cinemascope framing", 21 / 9),
        ("anamorphic 2.39:1", 2.39),
        ("a wide shot", None),
    ],
)
def test_letterbox_words(text: str, aspect: float | None) -> None:
    assert find_letterbox(text) == (pytest.approx(aspect) if aspect else None)


@pytest.mark.parametrize(
    ("text", "move"),
    [
        ("crane up over the city", CameraMove.CRANE_UP),
        ("the camera cranes down", CameraMove.CRANE_DOWN),
        ("a crane shot of the stadium", CameraMove.CRANE_UP),
        ("the camera rises above the trees", CameraMove.CRANE_UP),
        ("a white crane stands in the marsh", CameraMove.STATIC),  # the bird
    ],
)
def test_crane_words(text: str, move: CameraMove) -> None:
    assert parse_camera(text)[0] is move


@pytest.mark.parametrize(
    ("text", "shake"),
    [
        ("handheld pan left", 1.0),
        ("slightly shaky camera", 0.5),
        ("heavy camera shake", 2.0),
        ("a steady dolly in", None),
    ],
)
def test_handheld_shake(text: str, shake: float | None) -> None:
    assert find_shake(text) == shake


def test_handheld_keeps_the_move_and_alone_holds_still() -> None:
    moving = plan_shots("handheld pan left over @Image1", 48, 24, 1).shots[0]
    assert (moving.camera, moving.shake) == (CameraMove.PAN_LEFT, 1.0)
    held = plan_shots("handheld, @Image1 waits", 48, 24, 1).shots[0]
    assert (held.camera, held.shake) == (CameraMove.STATIC, 1.0)


def test_dialogue_lines_speakers_and_manner() -> None:
    lines = find_dialogue(
        '@Image1 says "Hello there." @Image2 whispers: \u201crun\u201d. @Image1: "Wait!" '
        'Someone shouts "Now!"'
    )
    assert [(x.text, x.speaker, x.manner) for x in lines] == [
        ("Hello there.", 1, "says"),
        ("run", 2, "whispers"),
        ("Wait!", 1, "says"),
        ("Now!", None, "shouts"),
    ]
    assert find_dialogue('a sign reads "OPEN"') == ()  # quoted, but nobody speaks it


@pytest.mark.parametrize(
    "text",
    [
        "the camera motion of @Video1",
        "follow the camera movement from @Video1",
        "@Image1 moves like @Video1",
        "@Video1's camera movement over @Image2",
        "use @Video1 as the motion reference",
    ],
)
def test_motion_video_words(text: str) -> None:
    assert motion_videos(text) == [1]


def test_a_plain_video_mention_is_not_a_motion_source() -> None:
    assert motion_videos("@Image1 dances in front of @Video1") == []


# --- shots, joins and timing -------------------------------------------------------------------


def _joins(prompt: str, frames: int = 96) -> list[Transition]:
    return [s.transition for s in plan_shots(prompt, frames, 24, 0).shots]


def test_join_markers_split_shots() -> None:
    assert _joins("a. Crossfade to: b. Dissolve to c. Whip pan to d. Fade to black, then e") == [
        Transition.CUT,
        Transition.CROSSFADE,
        Transition.CROSSFADE,
        Transition.WHIP_PAN,
        Transition.FADE_BLACK,
    ]


def test_join_words_in_shot_text_and_preamble() -> None:
    assert _joins("Shot 1: a. Shot 2: Dissolve. b. Shot 3: c [whip pan]") == [
        Transition.CUT,
        Transition.CROSSFADE,
        Transition.WHIP_PAN,
    ]
    assert _joins("Crossfades between shots. Shot 1: a. Shot 2: b. Shot 3: hard cut. c") == [
        Transition.CUT,
        Transition.CROSSFADE,
        Transition.CUT,
    ]
    assert _joins("Shot 1: a, it fades out. Shot 2: b") == [Transition.CUT, Transition.FADE_BLACK]


def test_fades_at_the_clip_ends() -> None:
    plan = plan_shots("Fade in on a city. Cut to a street, then fade to black.", 48, 24, 0)
    assert plan.fade_in and plan.fade_out and len(plan.shots) == 2
    assert not plan_shots("a street", 48, 24, 0).fade_out


def test_timed_shots_set_each_length() -> None:
    plan = plan_shots("[0-4s] a dog runs. [4-6s] a cat sleeps. [6-10s] they meet", 240, 24, 0)
    assert [(s.start_frame, s.num_frames) for s in plan.shots] == [(0, 96), (96, 48), (144, 96)]
    assert all(s.timed for s in plan.shots)
    assert plan.shots[1].prompt == "a cat sleeps."


def test_timed_shots_scale_to_the_clip_and_accept_other_spellings() -> None:
    plan = plan_shots("(0s-2s) a. (2s - 4s) b", 48, 24, 0)  # 4 s of shots in a 2 s clip
    assert [s.num_frames for s in plan.shots] == [24, 24]
    plan = plan_shots("[00:00-00:03] a\n[00:03-00:05] b", 120, 24, 0)
    assert [s.num_frames for s in plan.shots] == [72, 48]


def test_shot_lengths_in_markers_and_untimed_shots_share_the_rest() -> None:
    plan = plan_shots("Shot 1 (2s): a. Shot 2: b. Shot 3: c", 192, 24, 0)
    assert [s.num_frames for s in plan.shots] == [48, 72, 72]
    assert [s.timed for s in plan.shots] == [True, False, False]


def test_cuts_snap_to_beats_but_timed_cuts_stay() -> None:
    beats = [0.35 + 0.6 * k for k in range(10)]
    plan = plan_shots("Shot 1: a. Shot 2: b. Shot 3: c", 96, 24, 0, beats=beats)
    assert [s.start_frame for s in plan.shots] == [0, 37, 66]  # 32 -> 1.55 s, 64 -> 2.75 s
    assert plan.beats[:2] == (0.35, 0.95)
    timed = plan_shots("[0-1s] a [1-4s] b", 96, 24, 0, beats=beats)
    assert [s.start_frame for s in timed.shots] == [0, 24]


def test_snapping_keeps_every_shot_long_enough() -> None:
    plan = plan_shots("Shot 1: a. Shot 2: b", 48, 24, 0, beats=[0.2, 1.9])
    assert [s.num_frames for s in plan.shots] == [24, 24]  # both beats too far: no move


def test_looks_carry_over_and_shots_own_their_actions() -> None:
    plan = plan_shots(
        "Shot 1: @Image1 enters from the left at night. Shot 2: @Image2 bounces. "
        "Shot 3: golden hour, @Image1 floats",
        72,
        24,
        2,
    )
    assert [s.look for s in plan.shots] == [Look.NIGHT, Look.NIGHT, Look.GOLDEN_HOUR]
    assert [[(c.action, c.image) for c in s.actions] for s in plan.shots] == [
        [(Action.ENTER_LEFT, 1)],
        [(Action.BOUNCE, 2)],
        [(Action.FLOAT, 1)],
    ]


def _ref(kind: ReferenceKind, index: int, role: ReferenceRole = ReferenceRole.REFERENCE,
         seconds: float | None = None) -> StoredReference:  # fmt: skip
    return local_ref(kind, role, index, Path(f"/nowhere/{kind}{index}"), seconds=seconds)


def test_first_and_last_frame_roles_are_in_the_plan_and_not_subjects() -> None:
    refs = (
        _ref(ReferenceKind.IMAGE, 1, ReferenceRole.FIRST_FRAME),
        _ref(ReferenceKind.IMAGE, 2),
        _ref(ReferenceKind.IMAGE, 3, ReferenceRole.LAST_FRAME),
    )
    plan = plan_shots("Shot 1: a door opens. Shot 2: a cat", 48, 24, references=refs)
    assert (plan.first_frame, plan.last_frame) == (1, 3)
    assert [s.image_indices for s in plan.shots] == [(2,), (2,)]
    # A fade would hide the given frames: pinned ends never fade.
    faded = plan_shots("fade in on a door, then fade to black", 48, 24, references=refs)
    assert not faded.fade_in and not faded.fade_out


def test_soundtrack_and_motion_video_in_the_plan() -> None:
    refs = (
        _ref(ReferenceKind.AUDIO, 1),
        _ref(ReferenceKind.AUDIO, 2),
        _ref(ReferenceKind.VIDEO, 1),
    )
    assert soundtrack_index("dance to @Audio2", refs) == 2
    assert soundtrack_index("dance", refs) == 1
    plan = plan_shots(
        "@Image1 dances to @Audio2, camera motion of @Video1", 48, 24, 1, references=refs
    )
    shot = plan.shots[0]
    assert plan.soundtrack == 2
    assert (shot.camera, shot.motion_video, shot.speed) == (CameraMove.FROM_VIDEO, 1, 1.0)


def test_a_full_plan_round_trips_through_json() -> None:
    import json

    plan = plan_shots(
        'Noir, letterboxed. [0-2s] @Image1 enters from the left, handheld, says "hi". '
        "[2-4s] crossfade. @Image2 spins, crane up, camera motion of @Video1. Fade to black.",
        96,
        24,
        2,
        beats=[0.5, 1.1],
    )
    again = plan_from_dict(json.loads(json.dumps(plan.to_dict())))
    assert again == plan
    assert plan.letterbox and plan.fade_out
    assert plan.shots[1].transition is Transition.CROSSFADE
    assert plan.shots[0].dialogue[0].text == "hi"


def test_plans_stored_before_the_new_fields_still_load() -> None:
    old = {
        "shots": [
            {"index": 0, "start_frame": 0, "num_frames": 24, "prompt": "a", "camera": "zoom_in",
             "speed": 0.5, "image_indices": [1], "background_image": None},
        ],
        "fps": 24,
        "num_frames": 24,
        "mentions": ["Image1"],
    }  # fmt: skip
    plan = plan_from_dict(old)
    assert plan.shots[0].camera is CameraMove.ZOOM_IN and plan.shots[0].actions == ()
    assert plan.first_frame is None and plan.beats == ()
