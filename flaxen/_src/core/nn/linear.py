"""Functional linear layers: ``dense``, ``dense_general``, ``conv``, ``conv_transpose``, embeddings.

Each layer casts its input to ``dtype`` (default float32), creates ``kernel`` (and ``bias``
unless ``bias=False``) in the ``params`` collection of the scope it is given, and returns
the transformed input. Parameters are created in float32 by the initializer (the scope
calls ``init(key, shape)``) and cast to ``dtype`` for the computation.

Invariants shared with the reference's ``flax.core.nn.linear``:

* ``dense`` contracts the last input axis with a ``(in, features)`` kernel;
* ``dense_general`` stores a kernel of shape ``batch + contracted + features``; with batch
  dimensions, every batch slice is drawn from the same key (slices start equal);
* ``conv`` uses NHWC inputs and HWIO kernels (any number of spatial axes);
* ``embedding`` returns an ``Embedding`` struct over a ``table`` parameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jax.numpy as jnp
import numpy as np
from jax import lax
from jax.nn import initializers as jinit

from flaxen._src.core.scope import Scope
from flaxen._src.public import set_module
from flaxen._src.tree import struct
from flaxen._src.typing import Array, Dtype, Initializer, PrecisionLike

_PUBLIC = 'flaxen.core.nn.linear'

default_kernel_init = jinit.lecun_normal()
default_embed_init = jinit.variance_scaling(1.0, 'fan_in', 'normal', out_axis=0)


def _as_tuple(x: Any) -> tuple:
  return tuple(x) if isinstance(x, Iterable) else (x,)


def _positive_axes(axes: tuple[int, ...], ndim: int) -> tuple[int, ...]:
  return tuple(a + ndim if a < 0 else a for a in axes)


def _add_bias(scope: Scope, y: Array, features: int, bias_init: Initializer, dtype: Dtype):
  """``y + bias`` with a ``(features,)`` bias broadcast over the leading axes."""
  b = jnp.asarray(scope.param('bias', bias_init, (features,)), dtype)
  return y + jnp.reshape(b, (1,) * (y.ndim - 1) + (-1,))


def _repeat_over_batch(init: Initializer, n_batch: int, flat_tail: Any) -> Initializer:
  """Wraps ``init`` so a ``batch + rest`` shape is ``prod(batch)`` equal draws of ``flat_tail``.

  ``flat_tail(shape)`` gives the 1-d or 2-d shape each draw is made in (so fan-in/fan-out
  are those of the unbatched parameter); every draw uses the same key.
  """

  def wrapped(key, shape, dtype=jnp.float32):
    copies = int(np.prod(shape[:n_batch], dtype=np.int32))
    draws = [init(key, flat_tail(shape), dtype) for _ in range(copies)]
    return jnp.reshape(jnp.concatenate(draws, axis=0), shape)

  return wrapped


@set_module(_PUBLIC)
def dense_general(
  scope: Scope,
  inputs: Array,
  features: int | Iterable[int],
  axis: int | Iterable[int] = -1,
  batch_dims: int | Iterable[int] = (),
  bias: bool = True,
  dtype: Dtype = jnp.float32,
  kernel_init: Initializer = default_kernel_init,
  bias_init: Initializer = jinit.zeros,
  precision: PrecisionLike = None,
) -> Array:
  """A linear map over several input axes (``axis``) to several output axes (``features``).

  Args:
    scope: the scope holding ``kernel`` and ``bias``.
    inputs: the array to transform.
    features: the output feature shape (an int or a tuple).
    axis: the contracted input axes.
    batch_dims: leading input axes with their own kernel slice (must be ``0..k``).
    bias: whether to add a bias.
    dtype: the computation dtype.
    kernel_init: initializer of the kernel (called with the unbatched 2-d shape).
    bias_init: initializer of the bias.
    precision: ``lax.Precision`` of the contraction.

  Returns:
    An array with the non-contracted input axes followed by ``features``.

  Raises:
    ValueError: ``batch_dims`` are not the leading axes ``0, 1, ..., k``.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen.core import init
    >>> from flaxen.core import nn
    >>> y, v = init(nn.dense_general)(jax.random.key(0), jnp.ones((2, 3, 4)),
    ...                                features=(5, 6), axis=(-2, -1))
    >>> y.shape, v['params']['kernel'].shape
    ((2, 5, 6), (3, 4, 5, 6))
  """
  inputs = jnp.asarray(inputs, dtype)
  features, axis, batch_dims = _as_tuple(features), _as_tuple(axis), _as_tuple(batch_dims)
  if batch_dims and set(batch_dims) != set(range(int(np.max(batch_dims)) + 1)):
    raise ValueError(
      f'batch_dims {batch_dims} must be consecutive leading dimensions starting from 0.'
    )
  ndim = inputs.ndim
  axis = _positive_axes(axis, ndim)
  batch_dims = _positive_axes(batch_dims, ndim)
  nb, na, nf = len(batch_dims), len(axis), len(features)

  batch_shape = tuple(inputs.shape[d] for d in batch_dims)
  kernel_shape = batch_shape + tuple(inputs.shape[d] for d in axis) + features
  kernel_flat = lambda s: (np.prod(s[nb:nb + na]), np.prod(s[-nf:]))
  kernel = scope.param('kernel', _repeat_over_batch(kernel_init, nb, kernel_flat), kernel_shape)
  kernel = jnp.asarray(kernel, dtype)

  lhs_batch = batch_dims
  rhs_batch = tuple(range(nb))
  rhs_contract = tuple(range(nb, nb + na))
  y = lax.dot_general(inputs, kernel, ((axis, rhs_contract), (lhs_batch, rhs_batch)),
                      precision=precision)
  if not bias:
    return y
  bias_flat = lambda s: (np.prod(s[-nf:]),)
  b = scope.param('bias', _repeat_over_batch(bias_init, nb, bias_flat), batch_shape + features)
  # give the bias a unit axis for every non-batch, non-contracted input axis
  for d in sorted(set(range(ndim)) - set(axis) - set(batch_dims)):
    b = jnp.expand_dims(b, d)
  return y + jnp.asarray(b, dtype)


@set_module(_PUBLIC)
def dense(
  scope: Scope,
  inputs: Array,
  features: int,
  bias: bool = True,
  dtype: Dtype = jnp.float32,
  precision: PrecisionLike = None,
  kernel_init: Initializer = default_kernel_init,
  bias_init: Initializer = jinit.zeros,
) -> Array:
  """A linear map of the last axis: ``inputs @ kernel + bias``.

  Args:
    scope: the scope holding ``kernel`` (``(in, features)``) and ``bias``.
    inputs: the array to transform.
    features: the output size.
    bias: whether to add a bias.
    dtype: the computation dtype.
    precision: ``lax.Precision`` of the contraction.
    kernel_init: initializer of the kernel.
    bias_init: initializer of the bias.

  Returns:
    ``inputs`` with its last axis replaced by ``features``.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen.core import init, nn
    >>> y, v = init(nn.dense)(jax.random.key(0), jnp.ones((2, 3)), 4)
    >>> y.shape, jax.tree_util.tree_map(jnp.shape, dict(v['params']))
    ((2, 4), {'bias': (4,), 'kernel': (3, 4)})
  """
  inputs = jnp.asarray(inputs, dtype)
  kernel = jnp.asarray(scope.param('kernel', kernel_init, (inputs.shape[-1], features)), dtype)
  last = inputs.ndim - 1
  y = lax.dot_general(inputs, kernel, (((last,), (0,)), ((), ())), precision=precision)
  return _add_bias(scope, y, features, bias_init, dtype) if bias else y


def _nhwc_dimension_numbers(ndim: int) -> lax.ConvDimensionNumbers:
  """Channels-last input/output and a spatial-first ``(..., in, out)`` kernel."""
  spatial = tuple(range(1, ndim - 1))
  io_spec = (0, ndim - 1, *spatial)
  kernel_spec = (ndim - 1, ndim - 2, *range(ndim - 2))
  return lax.ConvDimensionNumbers(io_spec, kernel_spec, io_spec)


@set_module(_PUBLIC)
def conv(
  scope: Scope,
  inputs: Array,
  features: int,
  kernel_size: tuple[int, ...],
  strides: tuple[int, ...] | None = None,
  padding: Any = 'SAME',
  input_dilation: tuple[int, ...] | None = None,
  kernel_dilation: tuple[int, ...] | None = None,
  feature_group_count: int = 1,
  bias: bool = True,
  dtype: Dtype = jnp.float32,
  precision: PrecisionLike = None,
  kernel_init: Initializer = default_kernel_init,
  bias_init: Initializer = jinit.zeros,
) -> Array:
  """A convolution of ``(batch, *spatial, channels)`` inputs.

  Args:
    scope: the scope holding ``kernel`` (``kernel_size + (in // groups, features)``) and ``bias``.
    inputs: the input, channels last.
    features: the number of filters.
    kernel_size: the window shape (a tuple, one entry per spatial axis).
    strides: the window strides (default: 1 on every spatial axis).
    padding: ``'SAME'``, ``'VALID'`` or ``(low, high)`` pairs per spatial axis.
    input_dilation: dilation of the input (a transposed convolution's stride).
    kernel_dilation: dilation of the kernel (atrous convolution).
    feature_group_count: split the input channels into this many groups.
    bias: whether to add a bias.
    dtype: the computation dtype.
    precision: ``lax.Precision`` of the convolution.
    kernel_init: initializer of the kernel.
    bias_init: initializer of the bias.

  Returns:
    The convolved array with ``features`` channels.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen.core import init, nn
    >>> y, v = init(nn.conv)(jax.random.key(0), jnp.ones((1, 8, 8, 3)), 4, (3, 3))
    >>> y.shape, v['params']['kernel'].shape
    ((1, 8, 8, 4), (3, 3, 3, 4))
  """
  inputs = jnp.asarray(inputs, dtype)
  spatial_rank = inputs.ndim - 2
  if strides is None:
    strides = (1,) * spatial_rank
  channels = inputs.shape[-1]
  assert channels % feature_group_count == 0
  kernel_shape = kernel_size + (channels // feature_group_count, features)
  kernel = jnp.asarray(scope.param('kernel', kernel_init, kernel_shape), dtype)
  y = lax.conv_general_dilated(
    inputs, kernel, strides, padding,
    lhs_dilation=input_dilation, rhs_dilation=kernel_dilation,
    dimension_numbers=_nhwc_dimension_numbers(inputs.ndim),
    feature_group_count=feature_group_count, precision=precision,
  )
  return _add_bias(scope, y, features, bias_init, dtype) if bias else y


@set_module(_PUBLIC)
def conv_transpose(
  scope: Scope,
  inputs: Array,
  features: int,
  kernel_size: tuple[int, ...],
  strides: tuple[int, ...] | None = None,
  padding: Any = 'SAME',
  kernel_dilation: tuple[int, ...] | None = None,
  bias: bool = True,
  dtype: Dtype = jnp.float32,
  precision: PrecisionLike = None,
  kernel_init: Initializer = default_kernel_init,
  bias_init: Initializer = jinit.zeros,
) -> Array:
  """A transposed convolution, as ``jax.lax.conv_transpose`` computes it.

  Args:
    scope: the scope holding ``kernel`` (``kernel_size + (in, features)``) and ``bias``.
    inputs: the input, channels last.
    features: the number of filters.
    kernel_size: the window shape (a tuple).
    strides: the strides (default: 1 on every spatial axis).
    padding: ``'SAME'``, ``'VALID'`` or ``(low, high)`` pairs per spatial axis.
    kernel_dilation: dilation of the kernel.
    bias: whether to add a bias.
    dtype: the computation dtype.
    precision: ``lax.Precision`` of the convolution.
    kernel_init: initializer of the kernel.
    bias_init: initializer of the bias.

  Returns:
    The output with ``features`` channels.
  """
  inputs = jnp.asarray(inputs, dtype)
  strides = strides or (1,) * (inputs.ndim - 2)
  kernel_shape = kernel_size + (inputs.shape[-1], features)
  kernel = jnp.asarray(scope.param('kernel', kernel_init, kernel_shape), dtype)
  y = lax.conv_transpose(inputs, kernel, strides, padding, rhs_dilation=kernel_dilation,
                         precision=precision)
  return _add_bias(scope, y, features, bias_init, dtype) if bias else y


_INDEX_DTYPES = (jnp.int32, jnp.int64, jnp.uint32, jnp.uint64)


@set_module(_PUBLIC)
@struct.dataclass
class Embedding:
  """An embedding table with the two ways of using it.

  Attributes:
    table: the ``(num_embeddings, features)`` table.
  """

  table: Any

  def lookup(self, indices: Array) -> Array:
    """The rows of ``table`` selected by integer ``indices`` (shape ``indices.shape + (features,)``).

    Raises:
      ValueError: ``indices`` is not a 32/64-bit (unsigned) integer array.
    """
    if indices.dtype not in _INDEX_DTYPES:
      raise ValueError('Input type must be an integer or unsigned integer.')
    return self.table[indices]

  def attend(self, query: Array) -> Array:
    """Inner products of ``query`` (last axis ``features``) with every row of the table.

    This is the usual output projection of a language model that shares its
    embedding table with the logits.
    """
    return jnp.dot(query, self.table.T)


@set_module(_PUBLIC)
def embedding(
  scope: Scope, num_embeddings: int, features: int, init_fn: Initializer = default_embed_init
) -> Embedding:
  """Creates the ``table`` parameter and returns it wrapped in an ``Embedding``.

  Args:
    scope: the scope holding ``table``.
    num_embeddings: number of rows.
    features: size of each row.
    init_fn: initializer of the table.

  Returns:
    An ``Embedding`` with ``lookup`` and ``attend``.

  Example:
    >>> import jax, jax.numpy as jnp
    >>> from flaxen.core import init, nn
    >>> emb, v = init(nn.embedding)(jax.random.key(0), 10, 3)
    >>> emb.lookup(jnp.array([1, 2])).shape, emb.attend(jnp.ones((3,))).shape
    ((2, 3), (10,))
  """
  return Embedding(scope.param('table', init_fn, (num_embeddings, features)))
