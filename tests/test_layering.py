"""Imports inside flaxen/_src flow only downward (DESIGN.md §1) and form no cycle.

Every import counts: top-level ones, imports inside functions and methods, and
``importlib.import_module('flaxen...')`` calls with a literal name. A
function-level import is not a way around the layering, nor around a cycle.

Cycles are looked for between *modules* (files): an import statement is an
edge to the most specific module it names (``from flaxen._src.core import lift``
is an edge to the ``lift`` package, ``from flaxen._src.core.lift.pack import
pack`` to ``pack.py``). All cycles are reported at once, one per strongly
connected group of modules.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1] / "flaxen"
SRC = ROOT / "_src"

# layer -> the layers it may import from (besides itself)
BASE = {"public", "errors", "config", "traceback_util"}
ALLOWED = {
  "base": set(),
  "tree": {"base"},
  "serialization": {"base", "tree"},
  "core": {"base", "tree"},
  "linen": {"base", "tree", "core"},
  "training": {"base", "tree", "serialization", "io"},
  # the top of the house may use anything below it
  "jax_utils": {"base", "tree", "serialization", "core", "linen", "training"},
  "cli": {"base", "tree", "serialization", "core", "linen", "training", "jax_utils"},
  "metrics": {"base", "tree", "serialization", "core", "linen", "training", "jax_utils"},
  "io": {"base"},
  "ids": {"base"},
  "cursor": {"base", "tree"},
}


def layer_of(module: str) -> str | None:
  parts = module.split(".")
  if parts[:2] != ["flaxen", "_src"] or len(parts) < 3:
    return None
  head = parts[2]
  if head == "typing":
    return "tree"  # the aliases sit beside FrozenDict, below everything else
  return "base" if head in BASE else head


def module_name(path: pathlib.Path) -> str:
  rel = path.relative_to(ROOT.parent).with_suffix("")
  parts = list(rel.parts)
  if parts[-1] == "__init__":
    parts.pop()
  return ".".join(parts)


def _absolute(path: pathlib.Path, node: ast.ImportFrom) -> str:
  if not node.level:
    return node.module or ""
  base = module_name(path).split(".")
  if path.name != "__init__.py":
    base = base[:-1]
  base = base[: len(base) - (node.level - 1)]
  return ".".join(base + ([node.module] if node.module else []))


def _import_module_call(node: ast.AST) -> str | None:
  """The literal name of an ``importlib.import_module('...')`` call, if ``node`` is one."""
  if not isinstance(node, ast.Call) or not node.args:
    return None
  fn = node.func
  name = fn.attr if isinstance(fn, ast.Attribute) else getattr(fn, "id", None)
  arg = node.args[0]
  if name == "import_module" and isinstance(arg, ast.Constant) and isinstance(arg.value, str):
    return arg.value
  return None


def imports_of(path: pathlib.Path) -> list[tuple[int, list[str]]]:
  """Every flaxen import of ``path``: ``(line, candidate names)``, most specific name first.

  ``from a.b import c`` gives ``['a.b.c', 'a.b']`` (``c`` may be a submodule or a
  name defined in ``a.b``); ``import a.b`` gives ``['a.b']``.
  """
  tree = ast.parse(path.read_text())
  found: list[tuple[int, list[str]]] = []
  for node in ast.walk(tree):
    if isinstance(node, ast.Import):
      found.extend((node.lineno, [a.name]) for a in node.names)
    elif isinstance(node, ast.ImportFrom):
      mod = _absolute(path, node)
      found.extend((node.lineno, [f"{mod}.{a.name}", mod]) for a in node.names)
    else:
      literal = _import_module_call(node)
      if literal is not None:
        found.append((node.lineno, [literal]))
  return [(line, names) for line, names in found if names[-1].startswith("flaxen")]


SOURCES = sorted(SRC.rglob("*.py"))
KNOWN = {module_name(p): p for p in SOURCES}


def resolve(names: list[str]) -> str | None:
  """The module (file) an import names: the first candidate, or a parent, that exists."""
  for name in names:
    while name:
      if name in KNOWN:
        return name
      name = name.rpartition(".")[0]
  return None


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_flow_downward(path):
  me = layer_of(module_name(path))
  if me is None:
    return
  allowed = ALLOWED.get(me)
  assert allowed is not None, f"{path}: layer {me!r} is not in the layering map"
  for line, names in imports_of(path):
    mod = names[-1]
    other = layer_of(mod)
    if other is None and not mod.startswith("flaxen._src"):
      pytest.fail(f"{path}:{line} imports the public façade {mod}; import from flaxen._src instead")
    if other is None or other == me:
      continue
    assert other in allowed, f"{path}:{line} ({me}) imports {mod} ({other}): upward import"


def import_graph() -> dict[str, dict[str, int]]:
  """``{module: {imported module: line}}`` over every import of every source file."""
  graph: dict[str, dict[str, int]] = {}
  for name, path in KNOWN.items():
    edges: dict[str, int] = {}
    for line, names in imports_of(path):
      target = resolve(names)
      if target is not None and target != name:
        edges.setdefault(target, line)
    graph[name] = edges
  return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
  """The strongly connected groups of two or more modules (Tarjan's algorithm, iterative)."""
  index: dict[str, int] = {}
  low: dict[str, int] = {}
  on_stack: set[str] = set()
  stack: list[str] = []
  groups: list[list[str]] = []
  counter = 0
  for start in sorted(graph):
    if start in index:
      continue
    work = [(start, iter(sorted(graph[start])))]
    index[start] = low[start] = counter
    counter += 1
    stack.append(start)
    on_stack.add(start)
    while work:
      node, children = work[-1]
      child = next(children, None)
      if child is not None:
        if child not in index:
          index[child] = low[child] = counter
          counter += 1
          stack.append(child)
          on_stack.add(child)
          work.append((child, iter(sorted(graph.get(child, ())))))
        elif child in on_stack:
          low[node] = min(low[node], index[child])
        continue
      work.pop()
      if work:
        parent = work[-1][0]
        low[parent] = min(low[parent], low[node])
      if low[node] == index[node]:
        group = []
        while True:
          member = stack.pop()
          on_stack.discard(member)
          group.append(member)
          if member == node:
            break
        if len(group) > 1:
          groups.append(sorted(group))
  return groups


def _one_cycle(graph: dict[str, dict[str, int]], group: list[str]) -> str:
  """A readable cycle through ``group``: ``a (line) -> b (line) -> ... -> a``."""
  members = set(group)
  start = group[0]
  paths = {start: [start]}
  frontier = [start]
  while frontier:  # breadth-first back to start, inside the group
    nxt = []
    for node in frontier:
      for child in sorted(graph[node]):
        if child == start:
          cycle = paths[node] + [start]
          hops = [f"{a}:{graph[a][b]}" for a, b in zip(cycle, cycle[1:])]
          return " -> ".join(hops) + f" -> {start}"
        if child in members and child not in paths:
          paths[child] = paths[node] + [child]
          nxt.append(child)
    frontier = nxt
  return " <-> ".join(group)  # pragma: no cover - a group always has a cycle


def test_no_import_cycles():
  graph = import_graph()
  cycles = [_one_cycle(graph, group) for group in strongly_connected(graph)]
  assert not cycles, "import cycles (module:line of each import):\n" + "\n".join(cycles)


def test_function_level_imports_are_seen(tmp_path):
  """The reader finds imports nested in functions, methods and importlib calls."""
  src = tmp_path / "probe.py"
  src.write_text(
    "import importlib\n"
    "def f():\n"
    "  from flaxen._src.training import train_state\n"
    "class C:\n"
    "  def m(self):\n"
    "    return importlib.import_module('flaxen._src.cli')\n"
  )
  names = [n[-1] for _, n in imports_of(src)]
  assert names == ["flaxen._src.training", "flaxen._src.cli"]


def test_cycle_finder_reports_a_function_level_cycle():
  graph = {"a": {"b": 1}, "b": {"c": 7}, "c": {"a": 3}, "d": {"a": 2}}
  groups = strongly_connected(graph)
  assert groups == [["a", "b", "c"]]
  assert _one_cycle(graph, groups[0]) == "a:1 -> b:7 -> c:3 -> a"
