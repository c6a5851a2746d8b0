"""``Module.module_paths``: which modules a call creates, found without computing anything.

``init`` runs under ``jax.eval_shape`` (no FLOPs, no memory) with an
interceptor that records, for every wrapped method call, the module's path
(``'/'``-joined, ``''`` for the root) and an unbound copy of the module.
"""

from __future__ import annotations

from typing import Any

import jax

from flaxen._src.core.filters import Filter
from flaxen._src.linen.module.interceptors import intercept_methods


def module_paths(module: Any, rngs: Any, args: tuple, kwargs: dict,
                 show_repeated: bool, mutable: Filter) -> dict[str, Any]:
  """``{path: unbound copy}`` for every module called by ``module.init(rngs, *args)``.

  With ``show_repeated`` a module called several times maps to the copy taken
  at its last call; otherwise to the copy taken at its first call.
  """
  found: dict[str, Any] = {}

  def record(next_fun, call_args, call_kwargs, context):
    mdl = context.module
    path = '/'.join(mdl.path)
    if show_repeated or path not in found:
      found[path] = mdl.clone()
    return next_fun(*call_args, **call_kwargs)

  with intercept_methods(record):
    jax.eval_shape(lambda: module.init(rngs, *args, mutable=mutable, **kwargs))
  return found
