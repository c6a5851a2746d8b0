"""Dtype policy of the layers: which dtype a layer computes in.

Layers take ``dtype=None`` (infer) and ``param_dtype=float32``. With
``dtype=None`` the computation dtype is JAX's type promotion of the inputs and
the parameters; an integer or boolean result is lifted to an inexact dtype by
promoting it with float32 (so an ``int32`` input times ``float32`` params
computes in ``float32``, and ``bfloat16`` inputs with ``float32`` params in
``float32``). An explicit ``dtype`` wins, but must be inexact when the caller
asks for an inexact result.

``None`` entries are skipped when inferring and passed through unchanged,
so a layer without bias can write
``x, kernel, bias = promote_dtype(x, kernel, None, dtype=self.dtype)``.
"""

from __future__ import annotations

from typing import Any, TypeVar

import jax.numpy as jnp

from flaxen._src.public import set_module
from flaxen._src.typing import Dtype

__all__ = ['canonicalize_dtype', 'promote_dtype']

T = TypeVar('T', bound=tuple)


def _is_inexact(dtype: Any) -> bool:
  return jnp.issubdtype(dtype, jnp.inexact)


def _infer(args: tuple[Any, ...], inexact: bool) -> Any:
  """JAX's promotion of the non-``None`` args, lifted with float32 when it must be inexact."""
  found = jnp.result_type(*(jnp.asarray(a) for a in args if a is not None))
  if inexact and not _is_inexact(found):
    found = jnp.promote_types(jnp.float32, found)
  return found


@set_module('flaxen.linen.dtypes')
def canonicalize_dtype(*args: Any, dtype: Dtype | None = None, inexact: bool = True) -> Dtype:
  """Chooses the dtype a computation on ``args`` runs in.

  Args:
    *args: arrays, scalars or ``None`` (ignored) that take part in the computation.
    dtype: an explicit dtype; if ``None`` it is inferred from ``args``.
    inexact: require an inexact (floating or complex) result. An inferred
      integer/boolean dtype is promoted with float32; an explicit one raises.

  Returns:
    The dtype to compute in.

  Raises:
    ValueError: if ``inexact`` and the explicit ``dtype`` is not inexact.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen.linen import dtypes
    >>> dtypes.canonicalize_dtype(jnp.ones(2, jnp.int32), jnp.ones(2, jnp.bfloat16))
    dtype(bfloat16)
    >>> dtypes.canonicalize_dtype(jnp.ones(2, jnp.int32))
    dtype('float32')
  """
  chosen = _infer(args, inexact) if dtype is None else dtype
  if inexact and not _is_inexact(chosen):
    raise ValueError(f'Dtype must be inexact: {chosen} (pass a floating point or complex '
                     'dtype, or inexact=False)')
  return chosen


@set_module('flaxen.linen.dtypes')
def promote_dtype(*args: Any, dtype: Dtype | None = None, inexact: bool = True) -> list[Any]:
  """Casts every non-``None`` argument to the common computation dtype.

  Args:
    *args: arrays (or ``None``) to cast.
    dtype: explicit target dtype; ``None`` infers it with :func:`canonicalize_dtype`.
    inexact: see :func:`canonicalize_dtype`.

  Returns:
    A list with one entry per argument: the cast array, or ``None``.

  Example:
    >>> import jax.numpy as jnp
    >>> from flaxen.linen import dtypes
    >>> x, k, b = dtypes.promote_dtype(jnp.ones(2, jnp.bfloat16), jnp.ones(2), None)
    >>> x.dtype, k.dtype, b
    (dtype('float32'), dtype('float32'), None)
  """
  target = canonicalize_dtype(*args, dtype=dtype, inexact=inexact)
  return [a if a is None else jnp.asarray(a, target) for a in args]
