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
from flaxen._src.typing import Array

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
  finite: Array
  aux: Any
  grad: Any


def _all_finite(tree: Any) -> jax.Array:
  """One boolean: every element of every leaf is finite (leaves folded in order)."""
  def fold(ok: jax.Array, leaf: Any) -> jax.Array:
    return ok & jnp.all(lax.is_finite(leaf))

  return functools.reduce(fold, jax.tree_util.tree_leaves(tree), jnp.array(True))


def _unscaled_f32(grads: Any, scale: Any) -> Any:
  return jax.tree_util.tree_map(lambda g: jnp.asarray(g, jnp.float32) / scale, grads)


@set_module(_PUBLIC)
class DynamicScale(struct.PyTreeNode):
  """Dynamic loss scaling for float16 training.

  Attributes:
    growth_factor: multiplier applied after ``growth_interval`` finite steps.
    backoff_factor: multiplier applied after a non-finite step.
    growth_interval: finite steps between two growths.
    fin_steps: finite steps since the last growth or non-finite step.
    scale: the current loss scale.
    minimum_scale: lower bound of the scale (``None``: no bound); by default
      the smallest normal float32, as a ``numpy.float32``.

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
  fin_steps: int = 0
  scale: float = 65536.0
  minimum_scale: float | None = struct.field(pytree_node=False, default=_F32.tiny)

  def _grown_scale(self) -> jax.Array:
    """The scale after a growth, never above the largest float32."""
    return jnp.minimum(self.scale * self.growth_factor, _F32.max)

  def _backed_off_scale(self) -> Any:
    """The scale after a non-finite step, never below ``minimum_scale``."""
    shrunk = self.scale * self.backoff_factor
    if self.minimum_scale is None:
      return shrunk
    return jnp.maximum(shrunk, self.minimum_scale)

  def _after_step(self, finite: jax.Array) -> DynamicScale:
    """The state for the next step, given whether this step's gradients were finite."""
    due = self.fin_steps == self.growth_interval
    scale_when_finite = jnp.where(due & finite, self._grown_scale(), self.scale)
    return self.replace(
      fin_steps=jnp.where(due | ~finite, 0, self.fin_steps + 1),
      scale=jnp.where(finite, scale_when_finite, self._backed_off_scale()),
    )

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
    scale = self.scale

    @functools.wraps(fun)
    def scaled_loss(*args):
      out = fun(*args)
      return (scale * out[0], out[1]) if has_aux else scale * out

    differentiate = jax.value_and_grad(scaled_loss, argnums, has_aux)

    @functools.wraps(fun)
    def step(*args) -> DynamicScaleResult:
      scaled_value, scaled_grads = differentiate(*args)
      if has_aux:
        value = (scaled_value[0] / scale, scaled_value[1])
      else:
        value = scaled_value / scale
      grads = _unscaled_f32(scaled_grads, scale)
      if axis_name is not None:
        grads = lax.pmean(grads, axis_name)
      finite = _all_finite(grads)
      return DynamicScaleResult(self._after_step(finite), finite, value, grads)

    return step
