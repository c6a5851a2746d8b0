"""``DynamicScale``: loss scaling for mixed-precision (float16) training.

The loss is multiplied by ``scale`` before differentiation so small float16
gradients do not flush to zero; gradients are divided by ``scale`` again (in
float32). When every gradient is finite, the run counts a finite step; after
``growth_interval`` finite steps in a row the scale grows by ``growth_factor``
(capped at the float32 maximum). A non-finite gradient multiplies the scale by
``backoff_factor`` (not below ``minimum_scale``) and resets the count. The
caller decides what to do with a non-finite step (usually: keep the old params,
``jnp.where(finite, new, old)``).

The scale and the finite-step count are pytree leaves (they change inside
``jit``); the factors and the interval are static fields.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import lax

from flaxen._src.public import set_module
from flaxen._src.tree import struct

_PUBLIC = 'flaxen.training.dynamic_scale'
_F32 = jnp.finfo(jnp.float32)


@set_module(_PUBLIC)
class DynamicScaleResult(NamedTuple):
  """What ``DynamicScale.value_and_grad``'s function returns.

  Attributes:
    dynamic_scale: the updated ``DynamicScale``.
    finite: a boolean scalar, whether every gradient is finite.
    aux: the unscaled loss (``(loss, aux)`` when ``has_aux``).
    grad: the unscaled float32 gradients.
  """

  dynamic_scale: DynamicScale
  finite: jax.Array
  aux: Any
  grad: Any


@set_module(_PUBLIC)
class DynamicScale(struct.PyTreeNode):
  """Dynamic loss scaling for float16 training.

  Attributes:
    growth_factor: multiplier applied after ``growth_interval`` finite steps.
    backoff_factor: multiplier applied after a non-finite step.
    growth_interval: finite steps between two growths.
    fin_steps: finite steps since the last growth or non-finite step.
    scale: the current loss scale.
    minimum_scale: lower bound of the scale (``None``: no bound).

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen.training.dynamic_scale import DynamicScale
    >>> ds = DynamicScale(scale=4.0)
    >>> ds, finite, loss, grad = ds.value_and_grad(lambda w: (w ** 2).sum())(jnp.ones(2))
    >>> bool(finite), float(loss), grad.tolist(), int(ds.fin_steps)
    (True, 2.0, [2.0, 2.0], 1)
  """

  growth_factor: float = struct.field(pytree_node=False, default=2.0)
  backoff_factor: float = struct.field(pytree_node=False, default=0.5)
  growth_interval: int = struct.field(pytree_node=False, default=2000)
  fin_steps: Any = 0
  scale: Any = 65536.0
  minimum_scale: float | None = struct.field(pytree_node=False, default=float(_F32.tiny))

  def value_and_grad(
    self,
    fun: Callable[..., Any],
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    axis_name: str | None = None,
  ) -> Callable[..., DynamicScaleResult]:
    """Like ``jax.value_and_grad`` with the loss scaled by ``self.scale``.

    Args:
      fun: the loss function (returns ``loss`` or ``(loss, aux)``).
      argnums: which positional argument(s) to differentiate.
      has_aux: whether ``fun`` returns ``(loss, aux)``.
      axis_name: if given, gradients are averaged over this pmap axis before
        the finiteness check (so every replica takes the same decision).

    Returns:
      A function with ``fun``'s arguments returning a ``DynamicScaleResult``.
    """

    def scaled(*args):
      out = fun(*args)
      return (self.scale * out[0], out[1]) if has_aux else self.scale * out

    grad_fn = jax.value_and_grad(scaled, argnums, has_aux)

    @functools.wraps(fun)
    def wrapper(*args) -> DynamicScaleResult:
      value, grad = grad_fn(*args)
      value = (value[0] / self.scale, value[1]) if has_aux else value / self.scale
      grad = jax.tree_util.tree_map(lambda g: jnp.asarray(g, jnp.float32) / self.scale, grad)
      if axis_name is not None:
        grad = lax.pmean(grad, axis_name)
      finite = jnp.array(True)
      for g in jax.tree_util.tree_leaves(grad):
        finite &= jnp.all(lax.is_finite(g))
      grow = self.fin_steps == self.growth_interval
      grown = jnp.minimum(self.scale * self.growth_factor, _F32.max)
      fin_scale = jnp.where(grow & finite, grown, self.scale)
      inf_scale = self.scale * self.backoff_factor
      if self.minimum_scale is not None:
        inf_scale = jnp.maximum(inf_scale, self.minimum_scale)
      new_scale = jnp.where(finite, fin_scale, inf_scale)
      new_fin_steps = jnp.where(grow | ~finite, 0, self.fin_steps + 1)
      new_self = self.replace(fin_steps=new_fin_steps, scale=new_scale)
      return DynamicScaleResult(new_self, finite, value, grad)

    return wrapper
