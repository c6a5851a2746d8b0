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

Fast path (these run once per layer call, eager or traced): when every
operand is a JAX array (or tracer) of one and the same strongly-typed dtype,
that dtype *is* JAX's promotion result under every promotion mode, so it is
read off the arrays instead of calling ``jnp.asarray``/``jnp.result_type``;
and an operand that already has the target dtype (strongly typed) is returned
as is, which is what ``jnp.asarray(x, dtype)`` returns for it (no op is bound
either way). Anything else takes the general path.
"""

from __future__ import annotations

from typing import Any, TypeVar

import jax
import jax.numpy as jnp
import numpy as np

from flaxen._src.public import set_module
from flaxen._src.typing import Dtype

__all__ = ['canonicalize_dtype', 'promote_dtype']

T = TypeVar('T', bound=tuple)


_Array = jax.Array
_INEXACT: dict[Any, bool] = {}


def _is_inexact(dtype: Any) -> bool:
  known = _INEXACT.get(dtype) if isinstance(dtype, np.dtype) else None
  if known is None:
    known = bool(jnp.issubdtype(dtype, jnp.inexact))
    if isinstance(dtype, np.dtype):
      _INEXACT[dtype] = known
  return known


def _strong_dtype(x: Any) -> Any:
  """``x.dtype`` for a strongly-typed JAX array or tracer; ``None`` for anything else."""
  if isinstance(x, _Array):
    aval = x.aval
    if not aval.weak_type:
      return aval.dtype
  return None


def _as_np_dtype(dtype: Any) -> Any:
  """``dtype`` as a ``np.dtype`` (no canonicalization), or ``None`` when it is none."""
  if isinstance(dtype, np.dtype):
    return dtype
  try:
    return np.dtype(dtype)
  except (TypeError, ValueError):
    return None


def as_array(x: Any) -> Any:
  """``jnp.asarray(x)``, without the call when ``x`` already is a JAX array or tracer."""
  return x if isinstance(x, _Array) else jnp.asarray(x)


def cast(x: Any, dtype: Any) -> Any:
  """``jnp.asarray(x, dtype)``, without the call when ``x`` is a strong array of ``dtype``."""
  have = _strong_dtype(x)
  if have is not None and have == _as_np_dtype(dtype):
    return x
  return jnp.asarray(x, dtype)


def _common_strong_dtype(args: tuple[Any, ...]) -> Any:
  """The one dtype shared by all non-``None`` args when all are strong JAX arrays, else None."""
  found = None
  for a in args:
    if a is None:
      continue
    dt = _strong_dtype(a)
    if dt is None or (found is not None and dt != found):
      return None
    found = dt
  return found


def _infer(args: tuple[Any, ...], inexact: bool) -> Any:
  """JAX's promotion of the non-``None`` args, lifted with float32 when it must be inexact."""
  found = _common_strong_dtype(args)
  if found is not None and (not inexact or _is_inexact(found)):
    return found
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
  exact = _as_np_dtype(target)
  return [a if a is None or (exact is not None and _strong_dtype(a) == exact)
          else jnp.asarray(a, target) for a in args]
