"""The Module repr.

``ClassName(`` then, indented by 4 spaces, a ``# attributes`` block with one
``field = value`` line per dataclass field (``parent`` and ``name`` excluded;
callables with a ``__name__`` print that name, e.g. ``kernel_init = init``,
``param_dtype = float32``) and, for bound modules, a ``# children`` block with
the nested reprs of the submodules created so far; then ``)``. A module with
nothing to show prints ``ClassName()``.
"""

from __future__ import annotations

from typing import Any

from flaxen._src.linen.module.base import ModuleBase


def _indent(text: str, num_spaces: int) -> str:
  pad = ' ' * num_spaces
  return ''.join(pad + line + '\n' for line in text.split('\n')[:-1])


def attr_repr(value: Any) -> str:
  """Repr of one field value: the ``__name__`` of named callables, else ``repr``."""
  if callable(value) and not isinstance(value, ModuleBase):
    name = getattr(value, '__name__', None)
    if isinstance(name, str):
      return name
  return repr(value)


def module_repr(module: Any, num_spaces: int = 4) -> str:
  """The repr of ``module`` (see module docstring)."""
  cls = type(module)
  d = module.__dict__
  rep = ''
  fields = getattr(cls, '_flaxen_repr_fields', ())
  if fields:
    rep += '# attributes\n'
    for f in fields:
      rep += f'{f} = {attr_repr(d.get(f))}\n'
  state = d.get('_state')
  children = {}
  if state is not None:
    children = {k: v for k, v in state.children.items() if isinstance(v, ModuleBase)}
  if children:
    rep += '# children\n'
    for name, child in children.items():
      rep += f'{name} = {module_repr(child, num_spaces)}\n'
  if rep:
    return f'{cls.__name__}(\n{_indent(rep, num_spaces)})'
  return f'{cls.__name__}()'
