"""The quality report of an alpha video (issue 16 item 6): ProRes 4444 passes the codec check,
and the plate, which an alpha video does not draw, is not looked for."""

from __future__ import annotations

from pathlib import Path

from reelforge.engines.base import RenderRequest
from reelforge.engines.preview import PreviewEngine
from reelforge.jobs.render import plan_video, render_video
from reelforge.quality import quality_report
from reelforge.spec import Codec
from tests.media_helpers import Flag, image_ref, studio_figure, textured_landscape, write_image


def test_an_alpha_video_is_judged_without_its_plate(tmp_path: Path) -> None:
    fig = write_image(tmp_path / "fig.png", studio_figure(480, 360))
    land = write_image(tmp_path / "land.png", textured_landscape(640, 360, avoid_red=True))
    refs = (image_ref(1, fig), image_ref(2, land))
    prompt = "@Image1 bounces in @Image2, slow pan left"
    plan = plan_video(prompt, 1, refs)
    request = RenderRequest(
        prompt=prompt, plan=plan, width=320, height=240, num_frames=plan.num_frames,
        references=refs, generate_audio=False,
    )  # fmt: skip
    files = render_video(
        PreviewEngine(), request, tmp_path / "out", codec=Codec.PRORES_4444,
        progress=lambda _f: None, cancel=Flag(),
    )  # fmt: skip
    assert files.video.name == "video.mov"
    report = quality_report(
        files.video, plan, refs, width=320, height=240, codec="prores_4444", generate_audio=False
    ).to_dict()
    checks = {c["name"]: c["verdict"] for c in report["checks"]}
    assert checks["container.codec"] == "pass" and checks["container.size"] == "pass"
    assert not any(name.endswith("Image2") for name in checks)  # the plate is not drawn
    assert report["verdict"] == "pass", report["checks"]
