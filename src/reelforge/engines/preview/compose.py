"""Per-frame compositing: warp each layer with one affine map (cv2.warpAffine, LINEAR) and lay
the subject layers over the plate with cv2.multiply/cv2.add on their bounding box only.

Subjects are stored premultiplied (RGB x alpha), so a frame is `plate x (1 - a) + subject`:
one multiply and one add per subject, all in OpenCV's uint8 kernels. A subject's pose (its
action: offset, scale, mirror, turn) folds into the same affine map; its opacity (fading in
near a pinned first frame) scales the warped alpha and colour on the bounding box.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from reelforge.engines.preview.actions import REST, Pose
from reelforge.engines.preview.camera import View, layer_affine
from reelforge.planning.model import ActionCue


@dataclass(frozen=True)
class Plate:
    """A background picture and how it sits in the world: pixel `anchor` (by default its
    centre) at the world origin."""

    image: np.ndarray  # RGB uint8
    px_per_unit: float
    anchor: tuple[float, float] | None = None

    @property
    def centre(self) -> tuple[float, float]:
        if self.anchor is not None:
            return self.anchor
        h, w = self.image.shape[:2]
        return (w - 1) / 2.0, (h - 1) / 2.0


@dataclass(frozen=True)
class Sprite:
    """A cut-out subject, premultiplied, sized for the closest the camera gets to it."""

    rgb: np.ndarray  # premultiplied RGB uint8 (h, w, 3)
    alpha: np.ndarray  # uint8 (h, w)

    @classmethod
    def from_cutout(cls, rgb: np.ndarray, alpha: np.ndarray) -> Sprite:
        a3 = cv2.cvtColor(alpha, cv2.COLOR_GRAY2RGB)
        return cls(rgb=cv2.multiply(rgb, a3, scale=1.0 / 255.0), alpha=alpha)

    @property
    def height(self) -> int:
        return int(self.alpha.shape[0])

    @property
    def width(self) -> int:
        return int(self.alpha.shape[1])


@dataclass(frozen=True)
class Placement:
    """Where a sprite stands in one shot: its centre in world units and its height there."""

    sprite: Sprite
    centre: tuple[float, float]
    world_height: float
    depth: float
    image: int = 0  # the @ImageN it shows
    cues: tuple[ActionCue, ...] = ()  # its actions in this shot

    @property
    def world_width(self) -> float:
        return self.world_height * self.sprite.width / self.sprite.height

    @property
    def px_per_unit(self) -> float:
        return self.sprite.height / self.world_height


def render_plate(plate: Plate, view: View, width: int, height: int) -> np.ndarray:
    m = layer_affine(view, plate.px_per_unit, plate.centre, (0.0, 0.0), width, height)
    return cv2.warpAffine(
        plate.image, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
    )


def composite(
    frame: np.ndarray,
    placement: Placement,
    view: View,
    pose: Pose = REST,
    opacity: float = 1.0,
    coverage: np.ndarray | None = None,
) -> None:
    """Lay one subject over `frame` in place. `coverage` (uint8, the frame's size), when
    given, accumulates the subjects' alpha the same way (for output with transparency)."""
    if opacity <= 0.0:
        return
    h, w = frame.shape[:2]
    sprite = placement.sprite
    src_centre = ((sprite.width - 1) / 2.0, (sprite.height - 1) / 2.0)
    centre = (placement.centre[0] + pose.dx, placement.centre[1] + pose.dy)
    linear = None if pose is REST else pose.matrix()
    m = layer_affine(view, placement.px_per_unit, src_centre, centre, w, h, linear)
    box = _dest_box(m, sprite.width, sprite.height, w, h)
    if box is None:
        return
    x0, y0, x1, y1 = box
    m[0, 2] -= x0
    m[1, 2] -= y0
    size = (x1 - x0, y1 - y0)
    fg = cv2.warpAffine(
        sprite.rgb,
        m,
        size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(0, 0, 0),
    )
    alpha = cv2.warpAffine(
        sprite.alpha, m, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0
    )
    if opacity < 1.0:
        fg = cv2.convertScaleAbs(fg, alpha=opacity)
        alpha = cv2.convertScaleAbs(alpha, alpha=opacity)
    inv = cv2.cvtColor(cv2.bitwise_not(alpha), cv2.COLOR_GRAY2RGB)
    roi = frame[y0:y1, x0:x1]
    cv2.add(cv2.multiply(roi, inv, scale=1.0 / 255.0), fg, dst=roi)
    if coverage is not None:
        cov = coverage[y0:y1, x0:x1]
        cv2.add(cv2.multiply(cov, inv[:, :, 0], scale=1.0 / 255.0), alpha, dst=cov)


def _dest_box(m: np.ndarray, sw: int, sh: int, w: int, h: int) -> tuple[int, int, int, int] | None:
    corners = np.array([[0, 0, 1], [sw, 0, 1], [0, sh, 1], [sw, sh, 1]], np.float64)
    pts = corners @ m.T
    x0 = max(0, int(np.floor(pts[:, 0].min())) - 1)
    y0 = max(0, int(np.floor(pts[:, 1].min())) - 1)
    x1 = min(w, int(np.ceil(pts[:, 0].max())) + 2)
    y1 = min(h, int(np.ceil(pts[:, 1].max())) + 2)
    if x1 <= x0 or y1 <= y0:
        return None
    return x0, y0, x1, y1
