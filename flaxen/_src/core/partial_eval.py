"""Lazy initialization: build variables from abstract (``jax.ShapeDtypeStruct``) inputs.

``lazy_init(fn)(*args)`` traces ``fn`` to a jaxpr with every ``ShapeDtypeStruct``
(and every array) as an input, then follows the data flow: an output that
depends on an abstract input cannot be computed, so ``LazyInitError`` names it.
Otherwise only the equations the outputs need are evaluated, one by one as
eager JAX would run them (so the values are bit-identical to ``init``); the
rest of the computation (the forward pass) is never run.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.extend.core import Literal

from flaxen._src import errors
from flaxen._src.public import set_module


def _is_sds(x: Any) -> bool:
  return isinstance(x, jax.ShapeDtypeStruct)



def _dependent_outputs(jaxpr: Any, tainted_inputs: list[bool]) -> list[bool]:
  tainted = {v for v, t in zip(jaxpr.invars, tainted_inputs) if t}
  for eqn in jaxpr.eqns:
    if any((not isinstance(v, Literal)) and v in tainted for v in eqn.invars):
      tainted.update(eqn.outvars)
  return [(not isinstance(v, Literal)) and v in tainted for v in jaxpr.outvars]


@set_module('flaxen.core.partial_eval')
def lazy_init(fn: Callable[..., Any]) -> Callable[..., Any]:
  """Wraps ``fn`` so that ``ShapeDtypeStruct`` arguments are allowed (see module docstring)."""

  def wrapper(*args, **kwargs):
    leaves, treedef = jax.tree_util.tree_flatten((args, kwargs), is_leaf=_is_sds)
    dyn_idx = [i for i, x in enumerate(leaves) if _is_sds(x) or isinstance(x, jax.Array | np.ndarray)]

    def flat_fn(*dyn):
      full = list(leaves)
      for i, x in zip(dyn_idx, dyn):
        full[i] = x
      a, k = jax.tree_util.tree_unflatten(treedef, full)
      return fn(*a, **k)

    dyn = [leaves[i] for i in dyn_idx]
    closed, out_shape = jax.make_jaxpr(flat_fn, return_shape=True)(*dyn)
    tainted = _dependent_outputs(closed.jaxpr, [_is_sds(x) for x in dyn])
    out_leaves = jax.tree_util.tree_leaves(out_shape)
    for t, aval in zip(tainted, out_leaves):
      if t:
        raise errors.LazyInitError(aval)
    return jax.tree_util.tree_unflatten(
      jax.tree_util.tree_structure(out_shape), _eval_needed(closed, dyn)
    )

  return wrapper


def _eval_needed(closed: Any, args: list[Any]) -> list[Any]:
  """Evaluates eagerly only the equations that the outputs depend on."""
  jaxpr = closed.jaxpr
  live = {v for v in jaxpr.outvars if not isinstance(v, Literal)}
  keep = []
  for eqn in reversed(jaxpr.eqns):
    if eqn.effects or any(v in live for v in eqn.outvars):
      keep.append(eqn)
      live.update(v for v in eqn.invars if not isinstance(v, Literal))
  env: dict[Any, Any] = dict(zip(jaxpr.constvars, closed.consts))
  env.update((v, None if _is_sds(a) else a) for v, a in zip(jaxpr.invars, args))

  def read(v):
    return v.val if isinstance(v, Literal) else env[v]

  for eqn in reversed(keep):
    bind = eqn.primitive.get_bind_params(eqn.params)
    subfuns, params = bind if isinstance(bind, tuple) else ((), bind)  # older jax: a pair
    ans = eqn.primitive.bind(*subfuns, *map(read, eqn.invars), **params)
    if eqn.primitive.multiple_results:
      env.update(zip(eqn.outvars, ans))
    else:
      env[eqn.outvars[0]] = ans
  return [read(v) for v in jaxpr.outvars]
