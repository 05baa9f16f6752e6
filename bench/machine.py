"""What machine a benchmark ran on, in one line, for the tables in docs/benchmarks.md."""

from __future__ import annotations

import os
from pathlib import Path


def describe_machine() -> str:
    """CPU model, cores usable by this process (and online), memory."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{model}, {usable} cores usable ({os.cpu_count()} online), {mem:.0f} GiB RAM"
