"""``convert_pre_linen``: renumber pre-Linen submodule names into Linen's scheme.

Pre-Linen numbered the submodules of a module globally (``Conv_0``,
``Dense_1``, ``Dense_2``); Linen numbers them per class (``Conv_0``,
``Dense_0``, ``Dense_1``). The conversion visits the names of each level in
natural order (so ``Dense_10`` comes after ``Dense_9``) and gives every
``<Class>_<n>`` name the next free index of its class; other names are kept.
Applied to a Linen tree it changes nothing (per-class numbering is a fixed point).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flaxen._src.public import set_module
from flaxen._src.training.checkpoints.naming import MODULE_NUM_RE, natural_sort
from flaxen._src.tree.frozen_dict import FrozenDict


@set_module('flaxen.training.checkpoints')
def convert_pre_linen(params: Any) -> Any:
  """Converts a pre-Linen parameter (or collection) tree to Linen submodule names.

  Args:
    params: a nested dict / FrozenDict; other values are returned unchanged.

  Returns:
    The renamed tree (a FrozenDict if ``params`` was one).

  Example:
    >>> from flaxen.training.checkpoints import convert_pre_linen
    >>> sorted(convert_pre_linen({'Conv_0': {}, 'Dense_1': {}}))
    ['Conv_0', 'Dense_0']
  """
  if not isinstance(params, Mapping):
    return params
  counts: dict[str, int] = {}
  renamed = {}
  for name in natural_sort(params.keys()):
    match = MODULE_NUM_RE.match(name)
    new_name = name
    if match:
      cls = match.group(1)
      index = counts.get(cls, 0)
      counts[cls] = index + 1
      new_name = f'{cls}_{index}'
    renamed[new_name] = convert_pre_linen(params[name])
  return FrozenDict(renamed) if isinstance(params, FrozenDict) else renamed
