"""``axes_scan``: ``lax.scan`` with per-argument axes and values computed once for all iterations.

``scan(fn, in_axes, out_axes, ...)`` (public as ``flaxen.core.axes_scan.scan``) returns ``scan_fn(broadcast_in, init,
*args)`` around ``fn(broadcast_in, carry, *xs) -> (broadcast_out, carry, ys)``:

* ``in_axes``/``out_axes`` are prefix trees of ``args``/``ys`` whose leaves are
  an integer axis (moved to the front / back from the front) or ``broadcast``
  (the whole value is given to, or taken once from, every iteration);
* ``broadcast_out`` (e.g. parameters created inside the body and shared by all
  iterations) is computed by tracing the body once to a jaxpr (``make_jaxpr``),
  checking that no broadcast output depends on the carry or a scanned slice
  (``ValueError`` naming its path otherwise), dead-code-eliminating everything
  the broadcast outputs do not need and evaluating the rest in the caller's
  trace. Outputs that merely forward their inputs (``apply``) cost no op, so a
  jitted step traces to the same jaxpr as a hand-written ``lax.scan``. The
  body then runs a second time, inside ``lax.scan``, with ``broadcast_out`` as
  input.

That first pass is a real Python execution of the body: RNG counters advance
during it (the reference behaves the same way; see the golden RNG rule 7).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jax._src import core as jax_core
from jax._src.interpreters import partial_eval as pe

from flaxen._src.core.lift.axes import broadcast
from flaxen._src.public import set_module


def _is_axis_leaf(x: Any) -> bool:
  return x is None or x is broadcast


def _norm_axes(axes: Any) -> Any:
  """Replaces ``None`` leaves by ``broadcast`` (both mean "not scanned")."""
  return jax.tree_util.tree_map(
    lambda a: broadcast if a is None else a, axes, is_leaf=_is_axis_leaf
  )


def _map_prefix(fn: Callable[..., Any], axes: Any, *trees: Any) -> Any:
  return jax.tree_util.tree_map(fn, axes, *trees, is_leaf=_is_axis_leaf)


def _to_front(ax: Any, sub: Any) -> Any:
  if ax is broadcast:
    return ()
  if ax == 0:
    return sub
  return jax.tree_util.tree_map(lambda x: jnp.moveaxis(x, ax, 0), sub)


def _from_front(ax: Any, sub: Any) -> Any:
  if ax is broadcast or ax == 0:
    return sub
  return jax.tree_util.tree_map(lambda x: jnp.moveaxis(x, 0, ax), sub)


def _slice_aval(x: Any) -> Any:
  aval = jax.typeof(x)
  return jax_core.mapped_aval(aval.shape[0], 0, aval)


@set_module('flaxen.core.axes_scan')
def scan(
  fn: Callable[..., Any],
  in_axes: Any,
  out_axes: Any,
  length: int | None = None,
  reverse: bool = False,
  unroll: int | bool = 1,
  check_constancy_invariants: bool = True,
  _split_transpose: bool = False,
) -> Callable[..., Any]:
  """See the module docstring.

  Returns:
    ``scan_fn(broadcast_in, init, *args) -> (broadcast_out, carry, ys)``.
  """
  in_axes = _norm_axes(in_axes)
  out_axes = _norm_axes(out_axes)

  def scan_fn(broadcast_in, init, *args):
    xs = _map_prefix(_to_front, in_axes, args)

    def body(b, c, xs, init_mode=False):
      xs = _map_prefix(lambda ax, arg, x: arg if ax is broadcast else x, in_axes, args, xs)
      broadcast_out, c, ys = fn(b, c, *xs)
      if init_mode:
        ys = _map_prefix(lambda ax, y: y if ax is broadcast else (), out_axes, ys)
        return broadcast_out, ys
      ys = _map_prefix(lambda ax, y: () if ax is broadcast else y, out_axes, ys)
      return c, ys

    if check_constancy_invariants:
      broadcast_in, constants_out = _constant_pass(body, broadcast_in, init, xs)
    else:
      constants_out = None

    kwargs = {'_split_transpose': True} if _split_transpose else {}
    c, ys = jax.lax.scan(
      lambda c, x: body(broadcast_in, c, x), init, xs, length=length, reverse=reverse,
      unroll=unroll, **kwargs
    )
    ys = _map_prefix(_from_front, out_axes, ys)
    if constants_out is not None:
      ys = _map_prefix(
        lambda ax, const, y: const if ax is broadcast else y, out_axes, constants_out, ys
      )
    return broadcast_in, c, ys

  return scan_fn


def _tainted_outputs(jaxpr: Any, tainted_inputs: list[bool]) -> list[bool]:
  """Which outputs depend on a tainted input (an equation is treated as a whole)."""
  tainted = {v for v, t in zip(jaxpr.invars, tainted_inputs) if t}
  for eqn in jaxpr.eqns:
    if any(not isinstance(v, jax_core.Literal) and v in tainted for v in eqn.invars):
      tainted.update(eqn.outvars)
  return [not isinstance(v, jax_core.Literal) and v in tainted for v in jaxpr.outvars]


def _constant_pass(body, broadcast_in, init, xs):
  """Traces ``body`` in init mode; returns its outputs, which must not depend on carry/xs."""
  slices = jax.tree_util.tree_map(_slice_aval, xs)
  closed, out_shape = jax.make_jaxpr(
    lambda b, c, x: body(b, c, x, init_mode=True), return_shape=True
  )(broadcast_in, init, jax.tree_util.tree_map(_as_sds, slices))
  jaxpr = pe.convert_constvars_jaxpr(closed.jaxpr)
  n_b = len(jax.tree_util.tree_leaves(broadcast_in))
  n_in = len(closed.jaxpr.invars)
  n_const = len(closed.consts)
  tainted_in = [False] * (n_const + n_b) + [True] * (n_in - n_b)
  tainted = _tainted_outputs(jaxpr, tainted_in)
  out_tree = jax.tree_util.tree_structure(out_shape)
  if any(tainted):
    marks = jax.tree_util.tree_unflatten(out_tree, tainted)
    bad = [
      jax.tree_util.keystr(path)
      for path, flag in jax.tree_util.tree_flatten_with_path(marks[0])[0]
      if flag
    ]
    raise ValueError(
      'A broadcast variable of a lifted scan depends on the carry or on a scanned input '
      f'(it cannot be computed once for all iterations): {bad or "an output"}. Broadcast '
      "variables must be initialized from unsplit rngs (split_rngs={...: False})."
    )
  dced, used = pe.dce_jaxpr(jaxpr, [True] * len(jaxpr.outvars))
  known = list(closed.consts) + jax.tree_util.tree_leaves(broadcast_in)
  args = [v for v, u in zip(known, used) if u]
  # carry/slice inputs are only still used by effects (e.g. a debug print): give zeros
  args += [jnp.zeros(a.shape, a.dtype) for a, u in zip(closed.in_avals[n_b:], used[len(known):])
           if u]
  outs = jax_core.eval_jaxpr(dced, (), *args)
  return jax.tree_util.tree_unflatten(out_tree, outs)


def _as_sds(aval: Any) -> Any:
  return jax.ShapeDtypeStruct(aval.shape, aval.dtype, weak_type=aval.weak_type)
