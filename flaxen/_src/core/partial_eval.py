"""Lazy initialization: build variables from abstract (``jax.ShapeDtypeStruct``) inputs.

``lazy_init(fn)(*args)`` returns what ``fn(*args)`` returns (the variables)
when some arguments are only shapes. Values that depend on such an argument
cannot be built: ``LazyInitError`` names the first one. Everything else is
computed exactly as ``init`` computes it (the same eager calls, so the same
bits), and the forward pass on the abstract inputs is never run. Two ways:

1. **Record, then create** (``lazy_record.py``), tried first: one abstract
   trace of ``fn`` in which parameters are noted instead of initialized, then
   the noted initializers are called eagerly, outside any trace (so JAX's fast
   dispatch runs them, as in ``init``). Peak memory is that of the parameters.
2. **JAX partial evaluation**, when the first way cannot express the model
   (lifted transforms such as ``nn.scan``, initializer arguments computed from
   other values, states updated while initializing): ``fn`` runs once under a
   partial-evaluation trace in which every value that does not depend on an
   abstract input is computed right away (eagerly, op by op) and the rest is
   only staged. JAX's partial-evaluation rules split ``scan``, ``cond`` and
   jitted calls into their computable and their abstract halves, so the
   parameters of a scanned layer are created without running the loop's
   forward pass. Intermediate values are freed as soon as nothing uses them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np
from jax.api_util import debug_info, flatten_fun_nokwargs
from jax.extend import linear_util as lu
from jax.interpreters import partial_eval as pe

from flaxen._src import errors
from flaxen._src.core import lazy_record
from flaxen._src.public import set_module


def _is_sds(x: Any) -> bool:
  return isinstance(x, jax.ShapeDtypeStruct)


def _is_dynamic(x: Any) -> bool:
  return _is_sds(x) or isinstance(x, jax.Array | np.ndarray)


class _Args:
  """The flattened arguments: the leaves, and a way to rebuild ``(args, kwargs)``."""

  def __init__(self, args: tuple, kwargs: dict):
    self.leaves, self.treedef = jax.tree_util.tree_flatten((args, kwargs), is_leaf=_is_sds)

  def call(self, fn: Callable[..., Any], idx: list[int], values: tuple) -> Any:
    full = list(self.leaves)
    for i, x in zip(idx, values):
      full[i] = x
    a, k = jax.tree_util.tree_unflatten(self.treedef, full)
    return fn(*a, **k)


@set_module('flaxen.core.partial_eval')
def lazy_init(fn: Callable[..., Any]) -> Callable[..., Any]:
  """Wraps ``fn`` so that ``ShapeDtypeStruct`` arguments are allowed (see module docstring)."""

  def wrapper(*args, **kwargs):
    flat = _Args(args, kwargs)
    try:
      return _record_then_create(fn, flat)
    except lazy_record.NotRecordable:
      pass
    except Exception:  # noqa: BLE001 - the general way below raises the real error, if any
      pass
    return _partial_eval(fn, flat)

  return wrapper


def _record_then_create(fn: Callable[..., Any], flat: _Args) -> Any:
  """Way 1 (module docstring). Raises ``NotRecordable`` when it does not apply."""
  recorder = lazy_record.Recorder()
  idx = [i for i, x in enumerate(flat.leaves) if _is_sds(x)]
  planned = []

  def record(*abstract):
    token = lazy_record.RECORDER.set(recorder)
    try:
      out = flat.call(fn, idx, abstract)
    finally:
      lazy_record.RECORDER.reset(token)
    planned.append(recorder.plan(out))
    return ()

  jax.make_jaxpr(record)(*[flat.leaves[i] for i in idx])
  if recorder.failed or not planned:
    raise lazy_record.NotRecordable('the record pass did not complete')
  tree, slots = planned[0]
  return lazy_record.build(tree, slots, recorder.create())


def _partial_eval(fn: Callable[..., Any], flat: _Args) -> Any:
  """Way 2 (module docstring): computes what does not depend on an abstract input."""
  idx = [i for i, x in enumerate(flat.leaves) if _is_dynamic(x)]
  dynamic = [flat.leaves[i] for i in idx]

  def flat_fn(*values):
    return flat.call(fn, idx, values)

  in_tree = jax.tree_util.tree_structure(tuple(dynamic))
  info = debug_info('lazy_init', flat_fn, tuple(dynamic), {})
  wrapped, out_tree = flatten_fun_nokwargs(lu.wrap_init(flat_fn, debug_info=info), in_tree)
  pvals = [
    pe.PartialVal.unknown(jax.core.ShapedArray(x.shape, x.dtype)) if _is_sds(x)
    else pe.PartialVal.known(x)
    for x in dynamic
  ]
  _, out_pvals, _ = pe.trace_to_jaxpr_nounits(wrapped, pvals)
  outs = []
  for pval in out_pvals:
    if not pval.is_known():
      raise errors.LazyInitError(pval.get_aval().str_short())
    outs.append(pval.get_known())
  return jax.tree_util.tree_unflatten(out_tree(), outs)
