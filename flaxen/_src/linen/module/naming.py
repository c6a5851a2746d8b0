"""Names of submodules: automatic names, attribute names and adoption.

* In a compact method an unnamed submodule gets ``<ClassName>_<i>``, counted
  per class *name* in its parent (``auto_name``); an explicit ``name=`` does not
  move the counter.
* A value assigned to an attribute in ``setup`` (or held in a dataclass field)
  is walked: every Module found in it is named after the attribute, with
  ``_<index>`` / ``_<key>`` suffixes for lists, tuples and dicts (``layers_0``,
  ``pairs_0_1``, ``heads_a``). Lists become tuples and dicts ``FrozenDict``s.
* A Module with no parent (built outside, passed in) is *adopted*: cloned
  once per root scope (so sharing by reference survives) and renamed after the
  attribute, unless ``flax_preserve_adopted_names`` (or a class attribute
  ``preserve_adopted_names``) keeps its own name.
* A Module that already has a parent and a name (an explicitly named
  submodule, or one shared from elsewhere) is kept as is: it is shared.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from flaxen._src.config import config
from flaxen._src.linen.module import state as state_lib
from flaxen._src.linen.module.base import ModuleBase
from flaxen._src.tree.frozen_dict import FrozenDict

# root scope -> {original module id: adopted clone}. Both levels are weak: an adopted
# clone is bound to a scope of that root, so a strong value would keep the root (and
# all its variables) alive for ever.
_ADOPTED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def auto_name(parent: Any, cls_name: str) -> str:
  """Next ``f'{cls_name}_{i}'`` of ``parent``'s per-class counter."""
  return f'{cls_name}_{parent._state.next_auto_index(cls_name)}'


_CONTAINERS = (list, tuple, dict, FrozenDict)
_MODULE_OR_CONTAINER = (ModuleBase, list, tuple, dict, FrozenDict)


# type -> whether its instances may be a Module or a container (decided once per type:
# this walk runs for every field of every module attached, eager or traced).
_MAY_HOLD_MODULES: dict[type, bool] = {}


def may_hold_modules(val: Any) -> bool:
  """Whether ``val`` is a Module or a container (that may hold Modules); cached per type."""
  kind = type(val)
  known = _MAY_HOLD_MODULES.get(kind)
  if known is None:
    known = _MAY_HOLD_MODULES[kind] = issubclass(kind, _MODULE_OR_CONTAINER)
  return known


def _is_container(x: Any) -> bool:
  return isinstance(x, _CONTAINERS)


def _has_module(x: Any) -> bool:
  if isinstance(x, ModuleBase):
    return True
  if isinstance(x, dict | FrozenDict):
    x = x.values()
  elif not isinstance(x, list | tuple):
    return False
  for v in x:
    if may_hold_modules(v) and _has_module(v):
      return True
  return False


def _is_frozen(x: Any) -> bool:
  """Whether ``freeze_attr(x)`` would return an equal structure (no list/dict inside)."""
  if isinstance(x, list | dict):
    return False
  if isinstance(x, FrozenDict):
    x = x.values()
  elif not isinstance(x, tuple):
    return True
  for v in x:
    if may_hold_modules(v) and not _is_frozen(v):
      return False
  return True


def _items(x: Any) -> list[tuple[str, Any]]:
  if isinstance(x, dict | FrozenDict):
    return [(str(k), v) for k, v in x.items()]
  if hasattr(x, '_fields'):  # namedtuple: keyed by field name
    return list(zip(x._fields, x))
  return [(str(i), v) for i, v in enumerate(x)]


def _flatten(x: Any, prefix: tuple[str, ...], out: list[tuple[tuple[str, ...], Any]]) -> None:
  if _is_container(x) and len(x):
    for k, v in _items(x):
      _flatten(v, prefix + (k,), out)
  else:
    out.append((prefix, x))


def _rebuild(x: Any, prefix: tuple[str, ...], mapped: dict[tuple[str, ...], Any]) -> Any:
  if not (_is_container(x) and len(x)):
    return mapped[prefix]
  if isinstance(x, dict | FrozenDict):
    return FrozenDict({k: _rebuild(v, prefix + (str(k),), mapped) for k, v in x.items()})
  values = [_rebuild(v, prefix + (k,), mapped) for k, v in _items(x)]
  if hasattr(x, '_fields'):
    return type(x)(*values)
  return tuple(values)


def freeze_attr(val: Any) -> Any:
  """Lists -> tuples and dicts -> FrozenDicts, recursively (namedtuples keep their type)."""
  if isinstance(val, dict | FrozenDict):
    return FrozenDict({k: freeze_attr(v) for k, v in val.items()})
  if isinstance(val, tuple):
    if hasattr(val, '_fields'):
      return type(val)(*[freeze_attr(v) for v in val])
    return tuple(freeze_attr(v) for v in val)
  if isinstance(val, list):
    return tuple(freeze_attr(v) for v in val)
  return val


def map_modules_in_tree(fn: Callable[[str, Any], Any], tree: Any) -> Any:
  """Calls ``fn(suffix, leaf)`` on each leaf (sorted by path) and rebuilds frozen containers."""
  if not (_is_container(tree) and len(tree)):
    return freeze_attr(fn('', tree))
  flat: list[tuple[tuple[str, ...], Any]] = []
  _flatten(tree, (), flat)
  mapped = {path: fn('_' + '_'.join(path), leaf) for path, leaf in sorted(flat, key=lambda t: t[0])}
  return _rebuild(tree, (), mapped)


def register_submodules(module: Any, name: str, val: Any) -> bool:
  """Stores ``val`` as attribute ``name`` of ``module``, naming/adopting the Modules in it.

  Returns:
    Whether ``val`` held a Module.
  """
  if not may_hold_modules(val):
    state_lib.set_attribute(module, name, val)
    return False
  if not _has_module(val):
    state_lib.set_attribute(module, name, val if _is_frozen(val) else freeze_attr(val))
    return False
  root = module.scope.root
  cache = _ADOPTED.get(root)
  if cache is None:
    cache = _ADOPTED[root] = weakref.WeakValueDictionary()
  queue: list[Any] = []
  preserve = getattr(type(module), 'preserve_adopted_names', None)
  if preserve is None:
    preserve = config.flax_preserve_adopted_names

  def adopt(suffix: str, sub: Any) -> Any:
    if not isinstance(sub, ModuleBase):
      return sub
    current_name = sub.__dict__.get('name')
    adopted_name = None
    if sub.parent is None:
      if preserve:
        adopted_name = current_name
      key = sub._id
      clone = cache.get(key)
      if clone is None:
        clone = sub.clone(name=None)
        cache[key] = clone
      sub = clone
    if sub.__dict__.get('name') is None:
      state_lib.set_parent(sub, module)
      if adopted_name is None:
        adopted_name = current_name if getattr(sub, '_is_name_scope', False) else f'{name}{suffix}'
      state_lib.set_name(sub, adopted_name)
      queue.append(sub)
    return sub

  val = map_modules_in_tree(adopt, val)
  state_lib.set_attribute(module, name, val)
  for sub in queue:
    sub.__post_init__()
  return True


def register_field_submodules(module: Any) -> bool:
  """Adopts the Modules held in ``module``'s dataclass fields (and freezes container fields).

  Returns:
    Whether any field held a Module. If none did, the fields are plain values and
    frozen containers now, and walking them again would change nothing (fields
    are never re-assigned).
  """
  d = module.__dict__
  found = False
  for field_name in type(module)._flaxen_field_names:
    val = d.get(field_name)
    if may_hold_modules(val) and register_submodules(module, field_name, val):
      found = True
  return found
