"""MiniMax-H3: the request -> ref2va mapping, label rewriting, the 12-reference cap, frame rules,
the step-end block, the torchvision-free processor and the loader's errors.

The end-to-end runs (tiny real pipeline, through the native and Ark APIs) are in
`test_minimax_h3_e2e.py`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from reelforge.core.references import StoredReference
from reelforge.engines.base import RenderRequest
from reelforge.engines.diffusion.fit import MINIMAX_H3_FRAMES
from reelforge.engines.diffusion.loading import DiffusionOptions, EngineUnavailable
from reelforge.engines.diffusion.minimax_h3 import (
    MiniMaxH3Engine,
    h3_blocks,
    plan_request,
    to_h3_reference,
)
from reelforge.planning.shots import plan_shots
from reelforge.spec import ReferenceKind, ReferenceRole
from tests.media_helpers import local_ref

IMAGE, VIDEO, AUDIO = ReferenceKind.IMAGE, ReferenceKind.VIDEO, ReferenceKind.AUDIO


def _ref(kind: ReferenceKind, index: int, role: ReferenceRole = ReferenceRole.REFERENCE,
         path: Path = Path("/dev/null")) -> StoredReference:  # fmt: skip
    return local_ref(kind=kind, role=role, index=index, path=path, fps=30.0)


def _request(prompt: str, *refs: StoredReference, seconds: int = 5) -> RenderRequest:
    n = seconds * 24
    images = sum(1 for r in refs if r.kind is IMAGE)
    return RenderRequest(prompt=prompt, plan=plan_shots(prompt, n, 24, images), width=1280,
                         height=720, num_frames=n, references=refs)  # fmt: skip


def test_references_map_in_order_and_mentions_become_h3_labels() -> None:
    refs = (
        _ref(IMAGE, 1), _ref(VIDEO, 1), _ref(IMAGE, 2), _ref(AUDIO, 1), _ref(VIDEO, 2),
        _ref(AUDIO, 2),
    )  # fmt: skip
    with_sound = {(VIDEO, 1)}  # the first video carries a soundtrack, the second is silent
    h3 = plan_request(
        _request(
            "@Image1 dances to @Audio1 like in @Video2, [Image 2] watches; @Audio2 ends", *refs
        ),
        lambda r: (r.kind, r.index) in with_sound,
    )
    assert h3.workflow == "ref2va"
    assert [(p.h3_kind, p.label) for p in h3.references] == [
        ("image", "<Picture 1>"),
        ("video", "<Video 1>"),  # its soundtrack took <Audio 1>
        ("image", "<Picture 2>"),
        ("audio", "<Audio 2>"),
        ("video", "<Video 2>"),
        ("audio", "<Audio 3>"),
    ]
    assert h3.prompt == (
        "<Picture 1> dances to <Audio 2> like in <Video 2>, <Picture 2> watches; <Audio 3> ends"
    )


def test_a_full_seedance_request_is_cut_to_the_models_12_references() -> None:
    refs = tuple(_ref(IMAGE, i) for i in range(1, 10)) + tuple(
        _ref(k, i) for k in (VIDEO, AUDIO) for i in (1, 2, 3)
    )
    h3 = plan_request(_request("@Image9 sings @Audio3 over @Video1", *refs), lambda _r: False)
    assert len(h3.references) == 12
    # Unmentioned ones go first, last in request order first; mentioned ones stay.
    assert [(r.kind, r.index) for r in h3.left_out] == [(VIDEO, 3), (AUDIO, 1), (AUDIO, 2)]
    assert h3.prompt == "<Picture 9> sings <Audio 1> over <Video 1>"
    many = tuple(_ref(IMAGE, i) for i in range(1, 10)) + tuple(_ref(AUDIO, i) for i in (1, 2, 3))
    everything = " ".join(f"@Image{i}" for i in range(1, 10)) + " @Audio1 @Audio2 @Audio3 @Video1"
    h3 = plan_request(_request(everything, *many, _ref(VIDEO, 1)), lambda _r: False)
    assert [(r.kind, r.index) for r in h3.left_out] == [(VIDEO, 1)]
    assert h3.prompt.endswith("<Audio 3> video 1")  # a left-out mention becomes plain words


def test_numpy_video_processor_matches_the_qwen3_vl_layout() -> None:
    import numpy as np

    from reelforge.engines.diffusion.qwen_vision import NumpyQwen3VLVideoProcessor, smart_resize

    assert smart_resize(4, 480, 854, temporal_factor=2, factor=32, min_pixels=32 * 32,
                        max_pixels=4 * 64 * 64) == (32, 64)  # fmt: skip
    processor = NumpyQwen3VLVideoProcessor(size={"shortest_edge": 1024, "longest_edge": 16384})
    frames = np.random.default_rng(0).integers(0, 255, (3, 48, 96, 3), dtype=np.uint8)
    out = processor([frames])
    t, h, w = (int(v) for v in out["video_grid_thw"][0])
    # 3 frames padded to 4 -> 2 temporal patches; 48x96 over the pixel budget -> 32x96
    assert (t, h, w) == (2, 2, 6)
    assert tuple(out["pixel_values_videos"].shape) == (t * h * w, 3 * 2 * 16 * 16)
    assert float(out["pixel_values_videos"].abs().max()) <= 1.0  # (x/255 - 0.5) / 0.5


def test_workflow_choice() -> None:
    no_sound = lambda _r: False  # noqa: E731
    assert plan_request(_request("a storm at sea"), no_sound).workflow == "t2va"
    fl = plan_request(
        _request("from @Image1 to @Image2", _ref(IMAGE, 1, ReferenceRole.FIRST_FRAME),
                 _ref(IMAGE, 2, ReferenceRole.LAST_FRAME)),
        no_sound,
    )  # fmt: skip
    assert fl.workflow == "fl2va" and fl.first_frame and fl.last_frame
    assert fl.prompt == "from image 1 to image 2"
    audio_only = plan_request(_request("a song", _ref(AUDIO, 1)), no_sound)
    assert audio_only.workflow == "t2va" and audio_only.soundtrack_from_reference


def test_frame_rule_is_17n_plus_5_with_the_5_to_14_4_s_window() -> None:
    assert MINIMAX_H3_FRAMES.snap(24) == 124  # a 1 s request is generated at 124, then cut
    assert MINIMAX_H3_FRAMES.snap(120) == 124
    assert MINIMAX_H3_FRAMES.snap(240) == 243
    assert MINIMAX_H3_FRAMES.window == 345  # 17 * 20 + 5: the longest call under 15 s


def test_step_end_block_is_in_every_denoising_loop() -> None:
    blocks = h3_blocks()
    for workflow in ("t2va", "fl2va", "ref2va"):
        loop = blocks.sub_blocks["denoise"].sub_blocks[workflow].sub_blocks["denoise"]
        assert list(loop.sub_blocks)[-1] == "reelforge_step_end"
        inputs = [i.name for i in blocks.get_workflow(workflow).inputs]
        assert "step_end_callback" in inputs


def test_references_decode_through_the_media_layer(tmp_path: Path) -> None:
    import numpy as np
    from PIL import Image

    from reelforge.engines.diffusion.minimax_h3 import PlannedReference

    path = tmp_path / "face.png"
    Image.fromarray(np.full((40, 60, 3), 200, np.uint8)).save(path)
    ref = to_h3_reference(PlannedReference(_ref(IMAGE, 1, path=path), "image", "<Picture 1>"),
                          64, 32)  # fmt: skip
    assert type(ref).__name__ == "MiniMaxH3ImageReference" and ref.image.size == (60, 40)


def test_loader_needs_a_modular_checkpoint(tmp_path: Path) -> None:
    (tmp_path / "h3").mkdir()
    engine = MiniMaxH3Engine(DiffusionOptions(model=str(tmp_path / "h3"), device="cpu"))
    with pytest.raises(EngineUnavailable, match=r"modular_model_index\.json"):
        engine.check_ready()
    with pytest.raises(EngineUnavailable):
        engine.pipeline()
