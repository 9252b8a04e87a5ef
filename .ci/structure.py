"""Structure checks run by `make lint` and .ci/run: no import cycle, no module over 400 lines.

Import cycles are found on the full import graph (grimp, the graph import-linter builds), which
counts imports inside functions too: a lazy import hides a cycle from Python, not from a reader.
The one back-edge allowed is the designed one: a `tasks` module imports the services it runs
inside its task bodies (services enqueue those tasks on commit, so the task module cannot also
be imported by them at load time without a cycle; see docs/architecture.md).

Exit 0 when both hold, 1 with every cycle and every oversized module listed otherwise.
"""

from __future__ import annotations

import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
# Each top-level package of the project and the folder that holds it.
PACKAGES = {
    "config": ROOT,
    "ledger": ROOT,
    "governance": ROOT,
    "api": ROOT,
    "console": ROOT,
    "model_ledger_verify": ROOT / "verifier" / "src",
}
MAX_LINES = 400
# Generated or data-like code, and code that is not the service's: not held to the size limit.
SIZE_EXEMPT = ("migrations", "tests", "bench")


def _is_task_body_import(graph: grimp.ImportGraph, importer: str, imported: str) -> bool:
    if importer.rsplit(".", 1)[-1] != "tasks":
        return False
    details = graph.get_import_details(importer=importer, imported=imported)
    top = importer.split(".", 1)[0]
    path = PACKAGES[top] / (importer.replace(".", "/") + ".py")
    lines = path.read_text(encoding="utf-8").splitlines()
    # Every import of `imported` by the task module sits inside a function (indented).
    return bool(details) and all(lines[d["line_number"] - 1][:1].isspace() for d in details)


def import_cycles() -> list[list[str]]:
    """Return each strongly connected set of modules (a cycle), as sorted module names."""
    for folder in sorted({str(folder) for folder in PACKAGES.values()}):
        sys.path.insert(0, folder)
    graph = grimp.build_graph(*PACKAGES, exclude_type_checking_imports=True)
    edges: dict[str, set[str]] = {}
    for module in graph.modules:
        edges[module] = {
            imported
            for imported in graph.find_modules_directly_imported_by(module)
            if not _is_task_body_import(graph, module, imported)
        }
    return [sorted(component) for component in _strongly_connected(edges) if len(component) > 1]


def _strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative (the graph is deep enough to trouble recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in edges:
                    continue
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def oversized_modules() -> list[tuple[str, int]]:
    """Return (path, lines) for every module of the project's packages over MAX_LINES."""
    found = []
    for package, folder in PACKAGES.items():
        for path in sorted((folder / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if any(part in SIZE_EXEMPT for part in relative.parts):
                continue
            lines = len(path.read_text(encoding="utf-8").splitlines())
            if lines > MAX_LINES:
                found.append((str(relative), lines))
    return found


def main() -> int:
    cycles, oversized = import_cycles(), oversized_modules()
    for cycle in cycles:
        print(f"Import cycle among {len(cycle)} modules: {', '.join(cycle)}")
    for path, lines in oversized:
        print(f"{path} has {lines} lines (at most {MAX_LINES}): split it by subject into a package.")
    if cycles or oversized:
        return 1
    print(f"No import cycles; no module over {MAX_LINES} lines.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
