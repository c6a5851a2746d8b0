"""Imports inside flaxen/_src flow only downward (DESIGN.md §1) and form no cycle."""

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


def imports_of(path: pathlib.Path, top_level_only: bool) -> set[str]:
  tree = ast.parse(path.read_text())
  nodes = tree.body if top_level_only else list(ast.walk(tree))
  found = set()
  pkg = module_name(path)
  is_pkg = path.name == "__init__.py"
  for node in nodes:
    if isinstance(node, ast.Import):
      found.update(a.name for a in node.names)
    elif isinstance(node, ast.ImportFrom):
      if node.level:
        base = pkg.split(".")
        if not is_pkg:
          base = base[:-1]
        base = base[: len(base) - (node.level - 1)]
        mod = ".".join(base + ([node.module] if node.module else []))
      else:
        mod = node.module or ""
      found.add(mod)
      for a in node.names:
        found.add(f"{mod}.{a.name}")
  return {m for m in found if m.startswith("flaxen")}


SOURCES = sorted(SRC.rglob("*.py"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(SRC)))
def test_imports_flow_downward(path):
  me = layer_of(module_name(path))
  if me is None:
    return
  allowed = ALLOWED.get(me)
  assert allowed is not None, f"{path}: layer {me!r} is not in the layering map"
  for mod in imports_of(path, top_level_only=False):
    other = layer_of(mod)
    if other is None and mod.startswith("flaxen") and not mod.startswith("flaxen._src"):
      pytest.fail(f"{path} imports the public façade {mod}; import from flaxen._src instead")
    if other is None or other == me:
      continue
    assert other in allowed, f"{path} ({me}) imports {mod} ({other}): upward import"


def test_no_import_cycles():
  known = {module_name(p) for p in SOURCES}
  graph = {}
  for p in SOURCES:
    deps = set()
    for mod in imports_of(p, top_level_only=True):
      while mod and mod not in known:
        mod = mod.rpartition(".")[0]
      if mod and mod != module_name(p):
        deps.add(mod)
    graph[module_name(p)] = deps
  # a package's __init__ importing its own children is not a cycle worth reporting
  for name, deps in graph.items():
    graph[name] = {d for d in deps if not name or not d.startswith(name + ".")}
  state: dict[str, int] = {}
  stack: list[str] = []

  def visit(n):
    state[n] = 1
    stack.append(n)
    for d in sorted(graph.get(n, ())):
      if state.get(d) == 1:
        cyc = stack[stack.index(d):] + [d]
        pytest.fail("import cycle: " + " -> ".join(cyc))
      if d not in state:
        visit(d)
    stack.pop()
    state[n] = 2

  for n in sorted(graph):
    if n not in state:
      visit(n)
