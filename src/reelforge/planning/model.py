"""The typed shot plan every engine reads: enums and frozen dataclasses, no behaviour.

A `ShotPlan` is what the planner made of a prompt and the references' metadata: the shots with
their frames, camera move, subject actions, look and dialogue, how each shot is joined to the
one before it, and what the whole clip must honour (first/last frame images, letterbox, the
soundtrack whose beats the cuts sit on). It holds no pixels and round-trips through JSON
(`to_dict` here, `planning.serialize.plan_from_dict` back).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class CameraMove(StrEnum):
    STATIC = "static"
    ZOOM_IN = "zoom_in"
    ZOOM_OUT = "zoom_out"
    DOLLY_IN = "dolly_in"
    DOLLY_OUT = "dolly_out"
    PAN_LEFT = "pan_left"
    PAN_RIGHT = "pan_right"
    TILT_UP = "tilt_up"
    TILT_DOWN = "tilt_down"
    ORBIT_LEFT = "orbit_left"
    ORBIT_RIGHT = "orbit_right"
    CRANE_UP = "crane_up"
    CRANE_DOWN = "crane_down"
    # The camera motion of a reference video (Shot.motion_video), measured by optical flow.
    FROM_VIDEO = "from_video"


class Transition(StrEnum):
    """How a shot is joined to the shot before it."""

    CUT = "cut"
    CROSSFADE = "crossfade"
    FADE_BLACK = "fade_to_black"
    WHIP_PAN = "whip_pan"


class Look(StrEnum):
    """A colour grade named by the prompt's words."""

    NONE = "none"
    GOLDEN_HOUR = "golden_hour"
    NIGHT = "night"
    NOIR = "noir"
    VINTAGE = "vintage"
    NEON = "neon"
    WARM = "warm"
    COOL = "cool"


class Action(StrEnum):
    """Subject motion a compositor can show with a cut-out."""

    ENTER_LEFT = "enter_from_left"
    ENTER_RIGHT = "enter_from_right"
    EXIT_LEFT = "exit_left"
    EXIT_RIGHT = "exit_right"
    WALK_RIGHT = "walk_left_to_right"
    WALK_LEFT = "walk_right_to_left"
    ROTATE = "rotate"  # turns about its vertical axis (a turntable)
    TUMBLE = "tumble"  # rolls in the picture plane
    FLOAT = "float"
    BOUNCE = "bounce"
    GROW = "grow"
    SHRINK = "shrink"


@dataclass(frozen=True)
class ActionCue:
    """One action of one subject: `image` is the @ImageN doing it; None means every subject of
    the shot."""

    action: Action
    image: int | None = None
    speed: float = 1.0  # 0.5 slow, 2.0 fast


@dataclass(frozen=True)
class CameraCue:
    """A camera move that follows the shot's first one ("orbit around @Image1, then dolly in")."""

    move: CameraMove
    speed: float = 1.0


@dataclass(frozen=True)
class DialogueLine:
    """A quoted line to be spoken: `speaker` is the @ImageN saying it, when the text names one."""

    text: str
    speaker: int | None = None
    manner: str = "says"  # "says" | "whispers" | "shouts"


@dataclass(frozen=True)
class Shot:
    """One shot: frames [start_frame, start_frame + num_frames) of the output."""

    index: int
    start_frame: int
    num_frames: int
    prompt: str
    camera: CameraMove = CameraMove.STATIC
    speed: float = 1.0  # 0.5 = slow, 2.0 = fast
    image_indices: tuple[int, ...] = ()  # 1-based @ImageN that appear in this shot
    background_image: int | None = None  # the @ImageN the text names as the place, if any
    shake: float = 0.0  # handheld camera shake, 0 = none, 1 = normal, 2 = heavy
    actions: tuple[ActionCue, ...] = ()
    transition: Transition = Transition.CUT  # the join from the previous shot (shot 0: none)
    look: Look = Look.NONE
    dialogue: tuple[DialogueLine, ...] = ()
    motion_video: int | None = None  # the @VideoN whose camera motion this shot follows
    timed: bool = False  # the length was given in the prompt ("[0-4s]", "Shot 1 (3s):")
    # Further moves, played after `camera` in the order written; the shot's frames are shared
    # evenly between all its moves (`planning.camera.camera_steps`).
    then: tuple[CameraCue, ...] = ()


@dataclass(frozen=True)
class ShotPlan:
    shots: tuple[Shot, ...]
    fps: int
    num_frames: int
    mentions: tuple[str, ...] = field(default=())  # e.g. ("Image1", "Audio1")
    first_frame: int | None = None  # @ImageN the first output frame must show
    last_frame: int | None = None  # @ImageN the last output frame must show
    letterbox: float | None = None  # picture aspect inside black bars (21/9), when asked
    fade_in: bool = False  # from black at the start
    fade_out: bool = False  # to black at the end
    soundtrack: int | None = None  # the @AudioN used as the soundtrack
    beats: tuple[float, ...] = ()  # the soundtrack's beats (seconds) cuts were snapped to

    @property
    def seconds(self) -> float:
        return self.num_frames / self.fps

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
