"""The shape of the package, kept by a test: a pure core, edges around it, no import cycles.

``statebot.core`` never imports an edge (journal, store, config, venues, feeds, app,
review, cli), a venue's client library or pandas, never opens a file or a socket and
never reads the wall clock; importing a machine in a fresh interpreter loads neither
the IBKR adapter nor the simulator.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "statebot"
EDGES = ("journal", "store", "config", "venues", "feeds", "app", "review", "cli")
FORBIDDEN_LIBRARIES = ("ib_insync", "ib_async", "eventkit", "pandas", "socket", "subprocess", "sqlite3", "urllib", "http")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules(under: Path = PACKAGE) -> Iterator[tuple[str, ast.Module, Path]]:
    for path in sorted(under.rglob("*.py")):
        yield module_name(path), ast.parse(path.read_text(), str(path)), path


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")[: -node.level] if not module.endswith("__init__") else module.split(".")
    return ".".join([*base, node.module] if node.module else base)


def imports(module: str, tree: ast.Module, *, top_level_only: bool) -> Iterator[tuple[str, int]]:
    """Every module ``tree`` imports (``from a import b`` yields ``a`` and ``a.b``), with its line."""
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    for node in nodes:
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(module, node)
            yield base, node.lineno
            for alias in node.names:
                yield f"{base}.{alias.name}", node.lineno


def test_the_core_imports_no_edge_and_no_venue_library() -> None:
    offences = []
    for module, tree, path in modules(PACKAGE / "core"):
        for name, line in imports(module, tree, top_level_only=False):
            root = name.split(".")[0]
            edge = name.startswith("statebot.") and name.split(".")[1] in EDGES
            if edge or root in FORBIDDEN_LIBRARIES:
                offences.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    assert offences == []


def test_the_core_opens_no_file_and_reads_no_wall_clock() -> None:
    offences = []
    for _, tree, path in modules(PACKAGE / "core"):
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            named = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""
            owner = f.value.id if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) else ""
            if named in ("open", "read_text", "read_bytes", "write_text", "write_bytes", "utcnow", "today") or (
                    named == "now" and owner != "self") or (owner == "time" and named in ("time", "monotonic")):
                offences.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno} calls {named}")
    assert offences == []


def test_no_module_of_the_package_takes_part_in_an_import_cycle() -> None:
    graph: dict[str, set[str]] = {}
    known = {m for m, _, _ in modules()}
    for module, tree, _ in modules():
        body = ast.Module(body=[n for n in tree.body if not (isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test))],
                          type_ignores=[])
        graph[module] = {n for n, _ in imports(module, body, top_level_only=True) if n in known and n != module}
    cycles = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            # a package's __init__ importing its own submodules is not a cycle of the design
            if nxt.startswith(node + "."):
                continue
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):] + [nxt]
                if not all(b.startswith(a + ".") or a.startswith(b + ".") for a, b in zip(cycle, cycle[1:])):
                    cycles.append(" -> ".join(cycle))
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert cycles == []


@pytest.mark.parametrize("machine", ["statebot.core.fsm.session", "statebot.core.fsm.killswitch", "statebot.core.engine.fold"])
def test_importing_a_machine_loads_no_venue_simulator_or_pandas(machine: str) -> None:
    code = ("import sys, importlib; importlib.import_module(%r); "
            "print('\\n'.join(m for m in sys.modules if m.split('.')[0] in ('ib_insync', 'ib_async', 'pandas') "
            "or m.startswith(('statebot.venues', 'statebot.app', 'statebot.journal', 'statebot.store'))))" % machine)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PACKAGE.parent)
    assert done.stdout.split() == []
