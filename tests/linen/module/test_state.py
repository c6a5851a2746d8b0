"""flaxen._src.linen.module.state: the one owner of Module instance state.

A static check reads every file that may hold Modules (``linen`` and the layers
above it) and fails when one other than ``state.py`` writes module state:
``object.__setattr__``, assignments to the ``ModuleState`` fields or to a
module's ``_state``/``_id``/``scope``/``_parent_ref``, item writes into
``children``/``autoname_cursor``/``__dict__``, and ``setattr`` with such a name.
The behaviour of the API itself is tested through the public Module API.
"""

from __future__ import annotations

import ast
import pathlib

import jax
import jax.numpy as jnp
import pytest

from flaxen import linen as nn
from flaxen._src.linen.module import state as state_lib

SRC = pathlib.Path(__file__).resolve().parents[3] / "flaxen" / "_src"
OWNER = SRC / "linen" / "module" / "state.py"
# Modules live in linen; only the layers above it can hold them.
SCANNED = [p for d in ("linen", "jax_utils.py", "cli") for p in sorted((SRC / d).rglob("*.py"))
           if (SRC / d).is_dir()] + [SRC / "jax_utils.py"]

STATE_FIELDS = set(state_lib.ModuleState.__slots__)
INSTANCE_FIELDS = {"_state", "_id", "scope", "_parent_ref", "_compact_name_scope_modules"}
WRITTEN_CONTAINERS = {"children", "autoname_cursor", "__dict__"}
MUTATORS = {"update", "pop", "popitem", "clear", "setdefault", "__setitem__"}


def _targets(node: ast.AST):
  if isinstance(node, ast.Assign):
    yield from node.targets
  elif isinstance(node, ast.AugAssign | ast.AnnAssign):
    yield node.target


def _flatten(target: ast.AST):
  if isinstance(target, ast.Tuple | ast.List):
    for t in target.elts:
      yield from _flatten(t)
  else:
    yield target


def _is_object_setattr(fn: ast.AST) -> bool:
  return (isinstance(fn, ast.Attribute) and fn.attr == "__setattr__"
          and isinstance(fn.value, ast.Name) and fn.value.id == "object")


def state_writes(path: pathlib.Path) -> list[str]:
  """The module-state writes in ``path`` as ``'line: what'``."""
  tree = ast.parse(path.read_text())
  found = []
  for node in ast.walk(tree):
    for target in (t for top in _targets(node) for t in _flatten(top)):
      if isinstance(target, ast.Attribute) and target.attr in STATE_FIELDS | INSTANCE_FIELDS:
        found.append(f"{node.lineno}: assigns .{target.attr}")
      if (isinstance(target, ast.Subscript) and isinstance(target.value, ast.Attribute)
          and target.value.attr in WRITTEN_CONTAINERS):
        found.append(f"{node.lineno}: writes into .{target.value.attr}[...]")
    if isinstance(node, ast.Call):
      fn = node.func
      if _is_object_setattr(fn):
        found.append(f"{node.lineno}: object.__setattr__")
      elif (isinstance(fn, ast.Name) and fn.id == "setattr" and len(node.args) > 1
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in STATE_FIELDS | INSTANCE_FIELDS | {"parent", "name"}):
        found.append(f"{node.lineno}: setattr(..., {node.args[1].value!r})")
      elif (isinstance(fn, ast.Attribute) and fn.attr in MUTATORS
            and isinstance(fn.value, ast.Attribute) and fn.value.attr in WRITTEN_CONTAINERS):
        found.append(f"{node.lineno}: .{fn.value.attr}.{fn.attr}(...)")
  return found


@pytest.mark.parametrize("path", SCANNED, ids=lambda p: str(p.relative_to(SRC)))
def test_only_the_owner_writes_module_state(path):
  if path == OWNER:
    return
  writes = state_writes(path)
  assert not writes, (
    f"{path.relative_to(SRC)} writes module state outside linen/module/state.py "
    f"(use its API instead): {writes}"
  )


def test_the_scan_sees_each_kind_of_write(tmp_path):
  probe = tmp_path / "probe.py"
  probe.write_text(
    "object.__setattr__(m, 'x', 1)\n"
    "m._state.in_setup = True\n"
    "m.scope, y = s, 2\n"
    "m._state.children['a'] = 1\n"
    "m.__dict__['name'] = 'n'\n"
    "setattr(m, 'parent', p)\n"
    "m._state.autoname_cursor.update({})\n"
    "m.other = 3\n"
  )
  assert sorted(int(w.split(":")[0]) for w in state_writes(probe)) == [1, 2, 3, 4, 5, 6, 7]
  assert state_writes(OWNER)  # the owner does write (so the scan is not vacuous there)


def test_transformed_clone_does_not_share_children():
  """Children created under a transform stay with the transformed clone (no tracer leaks)."""
  seen = {}

  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
      y = nn.vmap(nn.Dense, variable_axes={"params": 0}, split_rngs={"params": True})(2)(x)
      seen["children"] = dict(self._state.children)
      return y

  Outer().init(jax.random.key(0), jnp.ones((3, 4)))
  assert list(seen["children"]) == ["VmapDense_0"]


def test_export_marks_setup_transformed_and_reimport_takes_naming_back():
  st = state_lib.ModuleState()
  assert st.next_auto_index("Dense") == 0
  st.leave_setup(done=True)
  exported = st.export()
  assert exported.setup_called is state_lib.SetupState.TRANSFORMED
  assert exported.children == {} and exported.autoname_cursor == {"Dense": 1}
  assert exported.next_auto_index("Dense") == 1
  st.reimport(exported)
  assert st.next_auto_index("Dense") == 2
  assert st.setup_called is state_lib.SetupState.DONE


def test_parent_is_held_weakly():
  class Leaf(nn.Module):
    pass

  parent = nn.Dense(2)
  child = Leaf(parent=None)
  state_lib.set_parent(child, parent)
  assert child.parent is parent
  del parent
  assert child.parent is None
