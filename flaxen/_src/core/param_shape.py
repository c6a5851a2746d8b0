"""What ``Scope.param`` knows about an initializer without running it.

* **Shape check.** ``Scope.param`` on an existing parameter evaluates the
  initializer abstractly (``jax.eval_shape``, no computation) and compares leaf
  shapes; a mismatch raises ``ScopeParamShapeError``. The abstract result is
  cached per (initializer, arguments) when those are hashable, so repeated
  ``apply`` calls of the same layer pay for one trace of the initializer only.
* **Keyless initializers.** ``jax.nn.initializers.zeros``/``ones`` (what
  ``zeros_init()``/``ones_init()`` return) ignore their key. ``draws_no_key``
  says so, also through wrappers that mark themselves with a class attribute
  ``flaxen_init_wrapper = True`` and keep the wrapped initializer in ``init_fn``
  (``reshape_init``). ``Scope.param`` still counts the draw for such an
  initializer (later keys are unchanged) but does not derive the key: one
  ``fold_in`` less per bias/scale, and the same values.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np

from flaxen._src import errors

_KEYLESS = (jax.nn.initializers.zeros, jax.nn.initializers.ones)


def draws_no_key(init_fn: Any) -> bool:
  """Whether ``init_fn`` is known to ignore its key (see module docstring)."""
  while getattr(type(init_fn), 'flaxen_init_wrapper', False):
    init_fn = init_fn.init_fn
  return init_fn is _KEYLESS[0] or init_fn is _KEYLESS[1]


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


_ABSTRACT_CACHE: dict[Any, Any] = {}


def abstract_init(init_fn: Any, init_args: tuple, init_kwargs: dict, key: Any) -> Any:
  """``init_fn(key, *init_args, **init_kwargs)`` evaluated abstractly (``ShapeDtypeStruct`` leaves).

  Cached per (initializer, arguments, key type) when those are hashable.
  """
  key_aval = jax.ShapeDtypeStruct(np.shape(key), key.dtype)
  cache_key = _shape_key(init_fn, init_args, init_kwargs)
  if cache_key is not None:
    cache_key = (cache_key, key_aval.shape, key_aval.dtype)
    got = _ABSTRACT_CACHE.get(cache_key)
    if got is not None:
      return got
  abstract = jax.eval_shape(lambda k: init_fn(k, *init_args, **init_kwargs), key_aval)
  if cache_key is not None:
    if len(_ABSTRACT_CACHE) >= _SHAPE_CACHE_MAX:
      _ABSTRACT_CACHE.clear()
    _ABSTRACT_CACHE[cache_key] = abstract
  return abstract


def check_param_shape(path_text: str, name: str, value, init_fn, init_args, init_kwargs):
  """Raises ``ScopeParamShapeError`` if ``value``'s shapes differ from ``init_fn``'s."""
  init_shapes = _abstract_init(init_fn, init_args, init_kwargs)
  for val, init_shape in zip(jax.tree_util.tree_leaves(value), init_shapes):
    if np.shape(val) != init_shape:
      # roles as the reference's today: value_shape is the stored parameter's shape,
      # init_shape the one the initializer generates for the current inputs
      raise errors.ScopeParamShapeError(name, path_text, np.shape(val), init_shape)
