"""Dense, DenseGeneral and Einsum: shapes, values, dtypes, initializers, errors."""

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


def test_dense_scalar_input_is_rejected():
  with pytest.raises(ValueError, match='Dense.*scalar'):
    nn.Dense(3).init(KEY, jnp.float32(1.0))


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


def test_dense_general_bad_batch_dims():
  with pytest.raises(ValueError, match='DenseGeneral.*consecutive'):
    nn.DenseGeneral(3, batch_dims=(1,)).init(KEY, jnp.ones((2, 4, 5)))
  with pytest.raises(ValueError, match='DenseGeneral.*out of range'):
    nn.DenseGeneral(3, axis=3).init(KEY, jnp.ones((2, 4, 5)))


def test_einsum_field_and_call_string():
  layer = nn.Einsum((5, 3, 4), 'abc,cde->abde')
  variables = layer.init(KEY, X)
  p = variables['params']
  assert p['kernel'].shape == (5, 3, 4) and p['bias'].shape == (3, 4)
  y = layer.apply(variables, X)
  ref = np.einsum('abc,cde->abde', X, p['kernel']) + np.asarray(p['bias'])
  np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)

  call = nn.Einsum((5, 3), use_bias=False)
  v2 = call.init(KEY, X, einsum_str='abc,cd->abd')
  assert list(v2['params']) == ['kernel']
  assert call.apply(v2, X, einsum_str='abc,cd->abd').shape == (2, 3, 3)


def test_einsum_ellipsis_bias_shape():
  layer = nn.Einsum((5, 7), '...c,cd->...d')
  variables = layer.init(KEY, X)
  assert variables['params']['bias'].shape == (7,)
  assert layer.apply(variables, X).shape == (2, 3, 7)


def test_einsum_errors():
  with pytest.raises(ValueError, match='einsum_str'):
    nn.Einsum((5, 3)).init(KEY, X)  # neither field nor call argument
  with pytest.raises(ValueError, match='einsum_str'):
    nn.Einsum((5, 3), 'abc,cd->abd').init(KEY, X, einsum_str='abc,cd->abd')
  with pytest.raises(ValueError, match='Einsum.*->'):
    nn.Einsum((5, 3), 'abc,cd').init(KEY, X)
  with pytest.raises(ValueError, match='Einsum.*comma'):
    nn.Einsum((5, 3), 'abc->abc').init(KEY, X)
