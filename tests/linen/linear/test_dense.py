"""Dense and DenseGeneral: shapes, values, dtypes, initializers, field order, errors.

Expected behaviours on bad input (classes and texts) are the reference's (flax 0.12),
learned by running it on the same inputs.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import errors
from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)
X = jnp.asarray(np.random.default_rng(0).standard_normal((2, 3, 5)), jnp.float32)


def test_dense_matches_matmul():
  layer = nn.Dense(4)
  variables = layer.init(KEY, X)
  p = variables['params']
  assert list(p) == ['kernel', 'bias']
  assert p['kernel'].shape == (5, 4) and p['bias'].shape == (4,)
  y = layer.apply(variables, X)
  np.testing.assert_allclose(y, np.asarray(X) @ np.asarray(p['kernel']) + np.asarray(p['bias']),
                             rtol=1e-5, atol=1e-6)


def test_dense_kernel_uses_lecun_normal_with_first_params_key():
  variables = nn.Dense(3).init(KEY, jnp.ones((1, 5)))
  # The kernel's key is fold_in(key, H(counter 1)); check only the distribution family:
  k = variables['params']['kernel']
  assert k.dtype == jnp.float32 and float(jnp.abs(k).max()) < 2 * 2.0 / np.sqrt(5) * 1.2
  assert not variables['params']['bias'].any()


def test_dense_no_bias_and_custom_init():
  layer = nn.Dense(2, use_bias=False, kernel_init=nn.initializers.ones)
  variables = layer.init(KEY, jnp.ones((3, 4)))
  assert list(variables['params']) == ['kernel']
  np.testing.assert_allclose(layer.apply(variables, jnp.ones((3, 4))), 4 * np.ones((3, 2)))


@pytest.mark.parametrize('x_dtype, dtype, param_dtype, out_dtype', [
  (jnp.float32, None, jnp.float32, jnp.float32),
  (jnp.bfloat16, None, jnp.float32, jnp.float32),
  (jnp.bfloat16, None, jnp.bfloat16, jnp.bfloat16),
  (jnp.float32, jnp.bfloat16, jnp.float32, jnp.bfloat16),
  (jnp.int32, None, jnp.float32, jnp.float32),
  (jnp.float32, None, jnp.float16, jnp.float32),
])
def test_dense_dtypes(x_dtype, dtype, param_dtype, out_dtype):
  layer = nn.Dense(3, dtype=dtype, param_dtype=param_dtype)
  x = jnp.ones((2, 4), x_dtype)
  variables = layer.init(KEY, x)
  assert variables['params']['kernel'].dtype == param_dtype
  assert layer.apply(variables, x).dtype == out_dtype


def test_dense_precision_and_dot_general_are_used():
  calls = []

  def my_dot(lhs, rhs, dims, precision=None, **kw):
    calls.append(precision)
    return jax.lax.dot_general(lhs, rhs, dims, precision=precision)

  layer = nn.Dense(2, precision=jax.lax.Precision.HIGHEST, dot_general=my_dot)
  layer.init(KEY, jnp.ones((1, 3)))
  assert calls == [jax.lax.Precision.HIGHEST]


def test_dense_wrong_feature_size_names_the_path():
  layer = nn.Dense(3)
  variables = layer.init(KEY, jnp.ones((1, 4)))
  with pytest.raises(errors.ScopeParamShapeError, match='kernel'):
    layer.apply(variables, jnp.ones((1, 5)))


def test_dense_scalar_input_raises_the_reference_index_error():
  with pytest.raises(IndexError, match=r'^Dense "/": tuple index out of range \(.*scalar'):
    nn.Dense(3).init(KEY, jnp.float32(1.0))


def test_dense_accepts_lists_like_arrays():
  a = nn.Dense(3).init_with_output(KEY, [[1.0, 2.0]])
  b = nn.Dense(3).init_with_output(KEY, jnp.array([[1.0, 2.0]]))
  jax.tree_util.tree_map(np.testing.assert_array_equal, a, b)


DENSE_FIELDS = ('features', 'use_bias', 'dtype', 'param_dtype', 'precision', 'kernel_init',
                'bias_init', 'promote_dtype', 'dot_general', 'dot_general_cls')
DENSE_GENERAL_FIELDS = ('features', 'axis', 'batch_dims', 'use_bias', 'dtype', 'param_dtype',
                        'kernel_init', 'bias_init', 'precision', 'promote_dtype', 'dot_general',
                        'dot_general_cls')


@pytest.mark.parametrize('cls, fields', [(nn.Dense, DENSE_FIELDS),
                                         (nn.DenseGeneral, DENSE_GENERAL_FIELDS)])
def test_field_order_is_the_references(cls, fields):
  assert tuple(f.name for f in dataclasses.fields(cls))[:-2] == fields


def test_positional_arguments_follow_the_field_order():
  promote = lambda *a, dtype=None, inexact=True: nn.dtypes.promote_dtype(*a, dtype=dtype)  # noqa: E731
  layer = nn.Dense(3, False, None, jnp.float32, None, nn.initializers.ones,
                   nn.initializers.zeros, promote)
  assert layer.promote_dtype is promote and layer.dot_general is None
  assert repr(layer).index('promote_dtype') < repr(layer).index('dot_general')
  y = layer.apply(layer.init(KEY, jnp.ones((1, 2))), jnp.ones((1, 2)))
  np.testing.assert_array_equal(y, 2 * np.ones((1, 3)))


def test_dense_partitioned_kernel_keeps_box():
  init = nn.meta.with_partitioning(nn.initializers.lecun_normal(), (None, 'model'))
  variables = nn.Dense(4, kernel_init=init).init(KEY, jnp.ones((2, 3)))
  kernel = variables['params']['kernel']
  assert isinstance(kernel, nn.meta.Partitioned) and kernel.names == (None, 'model')
  assert kernel.value.shape == (3, 4)
  y = nn.Dense(4, kernel_init=init).apply(variables, jnp.ones((2, 3)))
  assert y.shape == (2, 4)


def test_dense_general_features_and_axes():
  layer = nn.DenseGeneral(features=(2, 3), axis=(-2, -1))
  variables = layer.init(KEY, X)
  p = variables['params']
  assert p['kernel'].shape == (3, 5, 2, 3) and p['bias'].shape == (2, 3)
  y = layer.apply(variables, X)
  ref = np.einsum('bij,ijkl->bkl', X, p['kernel']) + np.asarray(p['bias'])
  np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_dense_general_kernel_is_flat_init_reshaped():
  layer = nn.DenseGeneral(features=(2, 3), kernel_init=nn.initializers.lecun_normal())
  variables = layer.init(KEY, jnp.ones((4, 5)))
  kernel = variables['params']['kernel']
  flat = nn.Dense(6).init(KEY, jnp.ones((4, 5)))['params']['kernel']
  # Same key path (root, counter 1) and the same flat (5, 6) initialization:
  np.testing.assert_array_equal(kernel.reshape(5, 6), flat)


def test_dense_general_batch_dims():
  layer = nn.DenseGeneral(features=3, axis=-1, batch_dims=(0,))
  x = jnp.ones((2, 4, 5))
  variables = layer.init(KEY, x)
  p = variables['params']
  assert p['kernel'].shape == (2, 5, 3) and p['bias'].shape == (2, 3)
  y = layer.apply(variables, x)
  ref = np.einsum('bti,bio->bto', x, p['kernel']) + np.asarray(p['bias'])[:, None, :]
  np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def test_dense_general_sorts_the_contracted_axes():
  # axis=(-1, -2) contracts axes (1, 2) in increasing order: kernel (4, 5, ...), not (5, 4, ...)
  x = jnp.asarray(np.random.default_rng(1).standard_normal((2, 4, 5)), jnp.float32)
  unsorted = nn.DenseGeneral((2, 3), axis=(-1, -2))
  ordered = nn.DenseGeneral((2, 3), axis=(1, 2))
  y1, v1 = unsorted.init_with_output(KEY, x)
  y2, v2 = ordered.init_with_output(KEY, x)
  assert v1['params']['kernel'].shape == (4, 5, 2, 3)
  jax.tree_util.tree_map(np.testing.assert_array_equal, (y1, v1), (y2, v2))


def test_dense_general_several_batch_dims_compute_per_batch_entry():
  x = jnp.asarray(np.random.default_rng(2).standard_normal((2, 4, 5, 6)), jnp.float32)
  layer = nn.DenseGeneral((3, 2), axis=(2,), batch_dims=(0, 1))
  y, variables = layer.init_with_output(KEY, x)
  p = variables['params']
  assert p['kernel'].shape == (2, 4, 5, 3, 2) and p['bias'].shape == (2, 4, 3, 2)
  ref = np.einsum('abcd,abcef->abdef', x, p['kernel']) + np.asarray(p['bias'])[:, :, None]
  np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)
  # batch_dims given as an int means the one leading axis
  assert nn.DenseGeneral(3, batch_dims=0).init(KEY, jnp.ones((2, 4)))['params'][
    'kernel'].shape == (2, 4, 3)


@pytest.mark.parametrize('batch_dims', [(1,), (-3,), (0, 2)])
def test_dense_general_batch_dims_must_be_leading(batch_dims):
  text = (f'batch_dims {batch_dims} must be consecutive leading dimensions starting from 0.')
  with pytest.raises(ValueError) as info:
    nn.DenseGeneral(3, batch_dims=batch_dims).init(KEY, jnp.ones((2, 4, 5)))
  assert str(info.value).startswith(f'DenseGeneral "/": {text}')


def test_dense_general_axis_errors_are_the_references():
  with pytest.raises(IndexError, match='^DenseGeneral "/": tuple index out of range'):
    nn.DenseGeneral(3, axis=3).init(KEY, jnp.ones((2, 4, 5)))
  with pytest.raises(IndexError, match='tuple index out of range'):
    nn.DenseGeneral(3).init(KEY, jnp.ones(()))
  # contracting a batch axis is refused by dot_general itself, as in the reference
  with pytest.raises(TypeError, match='batch dimensions to be disjoint from contracting'):
    nn.DenseGeneral(3, axis=0, batch_dims=(0,)).init(KEY, jnp.ones((2, 4, 5)))
