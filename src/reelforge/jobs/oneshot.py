"""`reelforge generate`: render one request to a file, no server, no database."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from reelforge.engines.base import DecodedReference, RenderRequest
from reelforge.engines.registry import EngineRegistry
from reelforge.errors import InvalidReference
from reelforge.intake.probe import probe
from reelforge.intake.rules import check_request_rules
from reelforge.jobs.render import plan_video, render_video
from reelforge.jobs.service import choose_aspect
from reelforge.settings import Settings
from reelforge.spec import FPS, GenerationSpec, ReferenceKind, output_size


class _NeverCanceled:
    def is_set(self) -> bool:
        return False


def generate_file(
    spec: GenerationSpec,
    output: Path,
    *,
    settings: Settings,
    progress: Callable[[float], None] | None = None,
    engines: EngineRegistry | None = None,
) -> Path:
    """Render `spec` into `output` (an MP4). References must carry their bytes (`data`)."""
    registry = engines or EngineRegistry(settings=settings)
    from reelforge.engines.models import resolve_model

    resolved = resolve_model(
        spec.model,
        default_model=settings.default_model,
        engines=registry.names(),
        aliases=settings.model_aliases,
    )
    engine = registry.get(resolved.engine)
    limits = settings.limits.to_limits()
    check_request_rules(spec.prompt, spec.references, limits)
    with tempfile.TemporaryDirectory(prefix="reelforge-generate-") as tmp_name:
        tmp = Path(tmp_name)
        refs: list[DecodedReference] = []
        per_kind: dict[ReferenceKind, int] = {}
        for i, ref in enumerate(spec.references):
            if ref.data is None:
                raise InvalidReference(
                    f"references[{i}] must be a local file for `reelforge generate`",
                    param=f"references[{i}]",
                    reference_index=i,
                )
            path = tmp / f"ref{i}"
            path.write_bytes(ref.data)
            info = probe(path, ref.kind, param=f"references[{i}]", index=i, limits=limits)
            per_kind[ref.kind] = per_kind.get(ref.kind, 0) + 1
            refs.append(
                DecodedReference(
                    kind=ref.kind,
                    role=ref.role,
                    index=per_kind[ref.kind],
                    path=path,
                    width=info.width,
                    height=info.height,
                    seconds=info.seconds,
                    fps=info.fps,
                )
            )
        aspect = choose_aspect(spec.aspect_ratio, [(r.kind, r.width, r.height) for r in refs])
        width, height = output_size(spec.resolution, aspect)
        plan = plan_video(spec.prompt, spec.seconds, tuple(refs))
        request = RenderRequest(
            prompt=spec.prompt,
            plan=plan,
            width=width,
            height=height,
            num_frames=plan.num_frames,
            fps=FPS,
            seed=spec.seed or 0,
            generate_audio=spec.generate_audio,
            references=tuple(refs),
            preset=resolved.preset,
        )
        files = render_video(
            engine,
            request,
            tmp / "out",
            codec=spec.codec,
            progress=progress or (lambda _f: None),
            cancel=_NeverCanceled(),
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(files.video), str(output))
    return output
