"""The layering contracts hold (pyproject's [tool.importlinter]) and no two top-level packages
import each other, counting lazy imports and imports under TYPE_CHECKING."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_are_kept() -> None:
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    done = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_no_cycle_between_top_level_packages() -> None:
    graph = grimp.build_graph("reelforge", exclude_type_checking_imports=False)
    tops = {m.split(".")[1] for m in graph.modules if m.count(".") >= 1}
    edges: dict[str, set[str]] = {t: set() for t in tops}
    for module in graph.modules:
        if module.count(".") < 1:
            continue
        src = module.split(".")[1]
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.count(".") >= 1 and imported.split(".")[1] != src:
                edges[src].add(imported.split(".")[1])
    cycles = [(a, b) for a in sorted(edges) for b in sorted(edges[a]) if a < b and a in edges[b]]
    assert not cycles, f"top-level packages importing each other: {cycles}"
    # Longer cycles: a depth-first search for a back edge.
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                raise AssertionError(f"import cycle: {' -> '.join([*path, node, nxt])}")
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for top in sorted(edges):
        if top not in state:
            visit(top, [])
