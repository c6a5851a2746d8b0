"""Apply-time check that a stored parameter still has the shape its initializer gives.

``Scope.param`` on an existing parameter evaluates the initializer abstractly
(``jax.eval_shape``, no computation) and compares leaf shapes; a mismatch
raises ``ScopeParamShapeError``. The abstract result is cached per
(initializer, arguments) when those are hashable, so repeated ``apply`` calls
of the same layer pay for one trace of the initializer only.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from flaxen._src import errors

_SHAPE_CACHE: dict[Any, Any] = {}
_SHAPE_CACHE_MAX = 4096


def _shape_key(init_fn, init_args, init_kwargs):
  try:
    key = (init_fn, init_args, tuple(sorted(init_kwargs.items())))
    hash(key)
    return key
  except TypeError:
    return None


def _abstract_init(init_fn, init_args, init_kwargs):
  key = _shape_key(init_fn, init_args, init_kwargs)
  if key is not None:
    got = _SHAPE_CACHE.get(key)
    if got is not None:
      return got
  abstract = jax.eval_shape(lambda: init_fn(jax.random.PRNGKey(0), *init_args, **init_kwargs))
  shapes = [np.shape(x) for x in jax.tree_util.tree_leaves(abstract)]
  if key is not None:
    if len(_SHAPE_CACHE) >= _SHAPE_CACHE_MAX:
      _SHAPE_CACHE.clear()
    _SHAPE_CACHE[key] = shapes
  return shapes


def check_param_shape(path_text: str, name: str, value, init_fn, init_args, init_kwargs):
  """Raises ``ScopeParamShapeError`` if ``value``'s shapes differ from ``init_fn``'s."""
  init_shapes = _abstract_init(init_fn, init_args, init_kwargs)
  for val, init_shape in zip(jax.tree_util.tree_leaves(value), init_shapes):
    if np.shape(val) != init_shape:
      # roles as the reference's today: value_shape is the stored parameter's shape,
      # init_shape the one the initializer generates for the current inputs
      raise errors.ScopeParamShapeError(name, path_text, np.shape(val), init_shape)
