"""Context parallelism's refusals on the CPU (the parallel run itself needs GPUs: docs/gpu.md says
exactly why diffusers 0.42.1 cannot run it on CPU processes over gloo), and the GPU benchmark's
`--meta` mode, which must keep working on a CPU."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from reelforge.engines.diffusion import options_from_settings
from reelforge.engines.diffusion.loading import EngineUnavailable
from reelforge.engines.diffusion.parallel import enable_context_parallel, group_size
from reelforge.engines.diffusion.wan_vace import WanVaceEngine
from tests.conftest import make_settings
from tests.engines.diffusion.conftest import TINY_ENGINE_SETTINGS

ROOT = Path(__file__).resolve().parents[3]


def test_context_parallel_needs_a_process_group() -> None:
    import torch
    from diffusers import LTX2VideoTransformer3DModel

    assert group_size() == 1
    with torch.device("meta"):
        transformer = LTX2VideoTransformer3DModel(num_layers=1)
    with pytest.raises(EngineUnavailable, match="set engine_ranks_per_job=N"):
        enable_context_parallel(transformer, "ulysses")
    enable_context_parallel(object(), "none")  # off: nothing to check


def test_context_parallel_is_refused_for_wan_vace(
    tiny_models: dict[str, Path], tmp_path: Path
) -> None:
    settings = make_settings(
        tmp_path, **{**TINY_ENGINE_SETTINGS, "engine_context_parallel": "ulysses"}
    )
    engine = WanVaceEngine(options_from_settings(settings, str(tiny_models["wan-vace"])))
    with pytest.raises(EngineUnavailable, match="no context-parallel plan"):
        engine.pipeline()


def test_gpu_benchmark_meta_mode_runs_on_the_cpu() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "diffusion_gpu.py"), "--meta"],
        capture_output=True, text=True, timeout=240, check=True,
    )  # fmt: skip
    lines = [line for line in out.stdout.splitlines() if "parameters" in line]
    assert [line.split()[0] for line in lines] == [
        "wan-vace-1.3b", "wan-vace-14b", "ltx2", "minimax-h3",
    ]  # fmt: skip
    assert all("int8/fp8 weight-only" in line for line in lines)
