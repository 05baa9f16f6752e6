"""Context parallelism: one video's transformer sequence split across the ranks of a process group.

diffusers' `ModelMixin.enable_parallelism(config=ContextParallelConfig(ulysses_degree=N |
ring_degree=N))` shards the attention sequence of a transformer that declares a `_cp_plan`
(LTX-2, MiniMax-H3; not Wan VACE) over the ranks of an initialised `torch.distributed` group.
Every rank holds the whole model and runs the same pipeline call with the same inputs and seed;
the ranks exchange activations inside attention (Ulysses: all-to-all over heads; ring: K/V passed
round the ring) and end with the same output. Rank 0's output is the job's.

Process model (docs/gpu.md): with `engine_ranks_per_job=N` the worker's engine host starts a
*rank group* of N processes, one GPU each, for the engine (`jobs/rank_group.py`); they join a
process group before the engine is built. Rank 0 is the only rank that talks to the worker: it
hands each job's render request to the other ranks (a broadcast of the pickled request) so they
join the same pipeline call, and the cancel token is a collective so every rank stops at the same
step. `engine_context_parallel` turns the transformer's parallelism on when the engine loads; it
needs the process group to exist already (no torchrun needed; `bench/diffusion_gpu.py --cp` still
runs under torchrun).
"""

from __future__ import annotations

from typing import Any

from reelforge.engines.diffusion.loading import EngineUnavailable, import_diffusers, import_torch


def group_size() -> int:
    """The size of the initialised default process group (1 without one)."""
    torch = import_torch()
    dist = torch.distributed
    if not (dist.is_available() and dist.is_initialized()):
        return 1
    return int(dist.get_world_size())


def enable_context_parallel(module: Any, kind: str) -> None:
    """Shard `module`'s sequence over every rank of the default process group."""
    if kind == "none":
        return
    if not getattr(module, "_cp_plan", None):
        raise EngineUnavailable(
            f"engine_context_parallel={kind!r}: {type(module).__name__} has no context-parallel "
            "plan in diffusers (Wan VACE has none); use one worker per GPU instead"
        )
    world = group_size()
    if world < 2:
        raise EngineUnavailable(
            f"engine_context_parallel={kind!r} needs a process group of 2 or more ranks: set "
            "engine_ranks_per_job=N (the worker starts the group; docs/gpu.md), or run the "
            "benchmark under `torchrun --nproc-per-node N`"
        )
    diffusers = import_diffusers()
    config = (
        diffusers.ContextParallelConfig(ulysses_degree=world, ulysses_anything=True)
        if kind == "ulysses"
        else diffusers.ContextParallelConfig(ring_degree=world, ring_anything=True)
    )
    try:
        module.enable_parallelism(config=config)
    except (ValueError, RuntimeError, NotImplementedError) as exc:
        raise EngineUnavailable(f"engine_context_parallel={kind!r}: {exc}") from exc
