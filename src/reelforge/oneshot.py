"""`reelforge generate`: render one request to a file, no server, no database.

The same checks as a create (request rules, the engine's limits, the reference limits, the
moderation policy of prompt, references and output) and the same render path as the job
workflow (`plan_video` -> `build_render_request` -> `render_video`), on a job that lives only in
memory.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from reelforge.core.job import Job, JobStatus, Stage
from reelforge.core.references import StoredReference
from reelforge.engines.registry import EngineRegistry
from reelforge.errors import InvalidReference
from reelforge.intake.limits import Limits
from reelforge.intake.local import local_reference
from reelforge.jobs.render import build_render_request, plan_video, render_video
from reelforge.jobs.submissions import ModelCatalog, choose_aspect, validate_request
from reelforge.platform.moderation import (
    enforce_output,
    enforce_prompt,
    enforce_references,
    open_policy,
)
from reelforge.settings import Settings
from reelforge.spec import FPS, GenerationSpec, ReferenceKind, output_size


def _no_callbacks(_url: object, *, param: str) -> None:
    """`reelforge generate` sends no webhooks."""


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
    """Render `spec` into `output` (an MP4; with `alpha`, a ProRes 4444 .mov or a VP9 .webm).
    References must carry their bytes (`data`)."""
    registry = engines or EngineRegistry(settings=settings)
    models = ModelCatalog(
        engine_names=registry.names,
        limits=registry.limits,
        presets=registry.presets,
        follows_plan=registry.follows_plan,
        default_model=settings.default_model,
        aliases=settings.model_aliases,
    )
    limits = settings.limits.to_limits()
    # The checks of a create (no webhook here: its URL is not contacted) and its prompt policy.
    resolved = validate_request(spec, models, limits, _no_callbacks)
    policy = open_policy(settings.moderation_patterns_file)
    enforce_prompt(policy, spec.prompt)
    with tempfile.TemporaryDirectory(prefix="reelforge-generate-") as tmp_name:
        tmp = Path(tmp_name)
        refs = _probed_references(spec, tmp, limits)
        enforce_references(policy, [(i, r.kind.value, r.sha256) for i, r in enumerate(refs)])
        aspect = choose_aspect(spec.aspect_ratio, [(r.kind, r.width, r.height) for r in refs])
        width, height = spec.size or output_size(spec.resolution, aspect)
        now = time.time()
        job = Job(
            id="generate", owner_key_id="", status=JobStatus.RUNNING, stage=Stage.GENERATE,
            progress=0.0, model=spec.model, resolved=resolved, prompt=spec.prompt,
            seconds=spec.seconds, resolution=spec.resolution, aspect_ratio=aspect, width=width,
            height=height, fps=FPS, seed=spec.seed or 0, generate_audio=spec.generate_audio,
            codec=spec.codec, return_last_frame=spec.return_last_frame, references=(),
            created_at=now, updated_at=now,
        )  # fmt: skip
        plan = plan_video(spec.prompt, spec.seconds, refs)
        files = render_video(
            registry.get(resolved.engine),
            build_render_request(job, refs, plan),
            tmp / "out",
            codec=spec.codec,
            progress=progress or (lambda _f: None),
            cancel=_NeverCanceled(),
        )
        enforce_output(policy, files.video, files.thumbnail)
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(files.video), str(output))
    return output


def _probed_references(
    spec: GenerationSpec, tmp: Path, limits: Limits
) -> tuple[StoredReference, ...]:
    refs: list[StoredReference] = []
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
        per_kind[ref.kind] = per_kind.get(ref.kind, 0) + 1
        local = local_reference(
            path, ref.kind, role=ref.role, index=per_kind[ref.kind],
            param=f"references[{i}]", position=i, limits=limits,
        )  # fmt: skip
        refs.append(local)
    return tuple(refs)
