from __future__ import annotations

import pytest

from reelforge.planning.model import CameraMove, Shot, ShotPlan
from reelforge.planning.shots import plan_shots


def _frames(plan: ShotPlan) -> list[tuple[int, int]]:
    return [(s.start_frame, s.num_frames) for s in plan.shots]


def test_single_shot_without_markers() -> None:
    plan = plan_shots("@Image1 on a beach, slow zoom in", 120, 24, 1)
    assert plan.num_frames == 120 and plan.fps == 24
    (shot,) = plan.shots
    assert (shot.start_frame, shot.num_frames) == (0, 120)
    assert (shot.camera, shot.speed) == (CameraMove.ZOOM_IN, 0.5)
    assert shot.image_indices == (1,)
    assert plan.mentions == ("Image1",)


def test_shot_markers_split_frames_evenly_remainder_to_last() -> None:
    prompt = (
        "A rainy city. Shot 1: @Image1 waits, pan left. Shot 2: @Image2 arrives, zoom in. "
        "Shot 3: they meet, static."
    )
    plan = plan_shots(prompt, 121, 24, 2)
    assert _frames(plan) == [(0, 40), (40, 40), (80, 41)]
    assert [s.camera for s in plan.shots] == [
        CameraMove.PAN_LEFT,
        CameraMove.ZOOM_IN,
        CameraMove.STATIC,
    ]
    assert plan.shots[0].prompt.startswith("@Image1 waits")
    assert [s.image_indices for s in plan.shots] == [(1,), (2,), ()]
    assert [s.index for s in plan.shots] == [0, 1, 2]


def test_cut_to_splits_shots() -> None:
    plan = plan_shots("@Image1 in a forest, orbit left. Cut to: a close-up, push in", 48, 24, 1)
    assert _frames(plan) == [(0, 24), (24, 24)]
    assert [s.camera for s in plan.shots] == [CameraMove.ORBIT_LEFT, CameraMove.DOLLY_IN]
    # Image 1 is mentioned in shot 1 only, so shot 2 does not get it.
    assert [s.image_indices for s in plan.shots] == [(1,), ()]


def test_unmentioned_images_are_bound_to_every_shot_in_order() -> None:
    plan = plan_shots("Shot 1: @Image2 runs. Shot 2: a wide view", 48, 24, 3)
    assert [s.image_indices for s in plan.shots] == [(2, 1, 3), (1, 3)]


def test_preamble_mentions_and_camera_apply_to_every_shot() -> None:
    plan = plan_shots("@Image1 slowly pans right. Shot 1: a door. Shot 2: tilt up", 48, 24, 2)
    assert [s.image_indices for s in plan.shots] == [(1, 2), (1, 2)]
    assert [(s.camera, s.speed) for s in plan.shots] == [
        (CameraMove.PAN_RIGHT, 0.5),
        (CameraMove.TILT_UP, 1.0),
    ]


def test_at_most_six_shots() -> None:
    prompt = " ".join(f"Shot {i}: scene {i}." for i in range(1, 9))
    plan = plan_shots(prompt, 120, 24, 0)
    assert len(plan.shots) == 6
    assert _frames(plan)[-1] == (100, 20)
    assert "scene 8" in plan.shots[-1].prompt and "scene 6" in plan.shots[-1].prompt


def test_never_more_shots_than_frames() -> None:
    plan = plan_shots("Shot 1: a. Shot 2: b. Shot 3: c.", 2, 24, 0)
    assert _frames(plan) == [(0, 1), (1, 1)]


def test_background_mention_is_noted() -> None:
    plan = plan_shots("@Image1 walks through @Image2 at dusk", 24, 24, 2)
    assert plan.shots[0].background_image == 2
    plan = plan_shots("@Image3 as the background, @Image1 dances", 24, 24, 3)
    assert plan.shots[0].background_image == 3
    plan = plan_shots("@Image1 next to @Image2", 24, 24, 2)
    assert plan.shots[0].background_image is None


def test_mentions_beyond_the_image_count_are_ignored() -> None:
    plan = plan_shots("@Image1 and @Image5", 24, 24, 2)
    assert plan.shots[0].image_indices == (1, 2)
    assert plan.mentions == ("Image1", "Image5")


def test_plan_round_trips_to_dict() -> None:
    plan = plan_shots("Shot 1: zoom in. Shot 2: pan left", 24, 24, 0)
    data = plan.to_dict()
    assert data["shots"][1]["camera"] == "pan_left"
    assert Shot(**data["shots"][0]) == plan.shots[0]


@pytest.mark.parametrize(("frames", "fps", "images"), [(0, 24, 0), (24, 0, 0), (24, 24, -1)])
def test_bad_arguments(frames: int, fps: int, images: int) -> None:
    with pytest.raises(ValueError):
        plan_shots("x", frames, fps, images)


def test_prompt_without_camera_words_gets_a_slow_push_in() -> None:
    plan = plan_shots("a cat sleeping on a sofa", 48, 24, 0)
    assert (plan.shots[0].camera, plan.shots[0].speed) == (CameraMove.ZOOM_IN, 0.5)
    still = plan_shots("a cat sleeping on a sofa, static shot", 48, 24, 0)
    assert still.shots[0].camera is CameraMove.STATIC
