"""Tests of MultiHeadDotProductAttention / MultiHeadAttention / SelfAttention."""

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import errors
from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)


def _x(shape, seed=0):
  return jnp.asarray(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def _shapes(tree):
  return jax.tree_util.tree_map(lambda a: a.shape, tree)


def test_param_tree_names_order_and_shapes():
  layer = nn.MultiHeadDotProductAttention(num_heads=2, qkv_features=8, out_features=5)
  params = layer.init(KEY, _x((2, 4, 6)), _x((2, 7, 3)))['params']
  assert list(params) == ['query', 'key', 'value', 'out']
  assert list(params['query']) == ['kernel', 'bias']
  assert _shapes(params) == {
    'query': {'kernel': (6, 2, 4), 'bias': (2, 4)},
    'key': {'kernel': (3, 2, 4), 'bias': (2, 4)},
    'value': {'kernel': (3, 2, 4), 'bias': (2, 4)},
    'out': {'kernel': (2, 4, 5), 'bias': (5,)},
  }


def test_output_matches_manual_projection_and_attention():
  layer = nn.MultiHeadDotProductAttention(num_heads=2, qkv_features=8)
  x, kv = _x((2, 4, 6), 1), _x((2, 5, 3), 2)
  mask = jnp.asarray(np.random.default_rng(3).random((2, 1, 4, 5)) < 0.8)
  variables = layer.init(KEY, x, kv, mask=mask)
  p = variables['params']

  def proj(name, a):
    return jnp.einsum('...f,fhd->...hd', a, p[name]['kernel']) + p[name]['bias'][None, None]

  att = nn.dot_product_attention(proj('query', x), proj('key', kv), proj('value', kv), mask=mask)
  expected = jnp.einsum('...hd,hdo->...o', att, p['out']['kernel']) + p['out']['bias'][None, None]
  out = layer.apply(variables, x, kv, mask=mask)
  assert out.shape == (2, 4, 6)
  np.testing.assert_allclose(np.asarray(out), np.asarray(expected), rtol=1e-5, atol=1e-5)


def test_inputs_k_and_v_default_to_query():
  layer = nn.MultiHeadDotProductAttention(num_heads=2)
  x = _x((1, 3, 4))
  variables = layer.init(KEY, x)
  a = layer.apply(variables, x)
  b = layer.apply(variables, x, x, x)
  np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_no_bias_and_normalize_qk():
  layer = nn.MultiHeadDotProductAttention(num_heads=2, qkv_features=8, normalize_qk=True,
                                          use_bias=False)
  params = layer.init(KEY, _x((2, 3, 4)))['params']
  assert list(params) == ['query', 'key', 'value', 'query_ln', 'key_ln', 'out']
  assert _shapes(params['query_ln']) == {'scale': (4,)}
  assert all('bias' not in params[n] for n in ('query', 'key', 'value', 'out'))


def test_dtype_param_dtype_and_initializers():
  layer = nn.MultiHeadDotProductAttention(
    num_heads=2, dtype=jnp.bfloat16, param_dtype=jnp.float16,
    kernel_init=nn.initializers.ones, bias_init=nn.initializers.constant(0.5),
    out_kernel_init=nn.initializers.zeros, out_bias_init=nn.initializers.ones,
  )
  x = _x((1, 3, 4))
  variables = layer.init(KEY, x)
  p = variables['params']
  assert all(leaf.dtype == jnp.float16 for leaf in jax.tree_util.tree_leaves(p))
  np.testing.assert_array_equal(np.asarray(p['query']['kernel'], np.float32), 1.0)
  np.testing.assert_array_equal(np.asarray(p['key']['bias'], np.float32), 0.5)
  out = layer.apply(variables, x)
  assert out.dtype == jnp.bfloat16
  # zero output kernel, unit output bias
  np.testing.assert_array_equal(np.asarray(out, np.float32), 1.0)


def test_precision_reaches_the_projections_and_the_attention():
  seen = []

  def attention_fn(q, k, v, precision=None, **kwargs):
    seen.append(precision)
    return nn.dot_product_attention(q, k, v, precision=precision, **kwargs)

  layer = nn.MultiHeadDotProductAttention(num_heads=2, precision=jax.lax.Precision.HIGHEST,
                                          attention_fn=attention_fn)
  x = _x((1, 3, 4))
  layer.init(KEY, x)
  assert seen == [jax.lax.Precision.HIGHEST]


def test_custom_attention_fn_gets_only_the_kwargs_it_accepts():
  received = {}

  def plain(q, k, v, mask=None):
    received['mask'] = mask
    return nn.dot_product_attention(q, k, v, mask=mask)

  layer = nn.MultiHeadDotProductAttention(num_heads=2, attention_fn=plain)
  x = _x((1, 3, 4))
  layer.init(KEY, x)
  assert received == {'mask': None}


def test_precision_reaches_a_custom_attention_fn_that_accepts_it():
  seen = {}

  def attn(q, k, v, precision=None, **kwargs):
    seen['precision'] = precision
    seen['kwargs'] = sorted(kwargs)
    return nn.dot_product_attention(q, k, v)

  layer = nn.MultiHeadDotProductAttention(num_heads=2, precision='highest', attention_fn=attn)
  layer.init(KEY, _x((1, 3, 4)))
  assert seen['precision'] == 'highest'
  assert 'qk_attn_weights_einsum' not in seen['kwargs']  # **kwargs is not a named parameter


def test_custom_einsum_factories_with_precision_are_refused_as_in_the_reference():
  layer = nn.MultiHeadDotProductAttention(
    num_heads=2, precision='highest', qk_attn_weights_einsum_cls=lambda: jnp.einsum,
    attn_weights_value_einsum_cls=lambda: jnp.einsum)
  with pytest.raises(ValueError, match='precision/einsum_dot_general and '
                                       'qk_attn_weights_einsum/attn_weights_value_einsum are '
                                       'mutually exclusive'):
    layer.init(KEY, _x((1, 3, 4)))


def test_custom_einsum_factories_are_called_with_the_operands_only():
  calls = []

  def factory():
    def einsum(equation, a, b, **kwargs):
      calls.append(sorted(kwargs))
      return jnp.einsum(equation, a, b)
    return einsum

  layer = nn.MultiHeadDotProductAttention(num_heads=2, qk_attn_weights_einsum_cls=factory,
                                          attn_weights_value_einsum_cls=factory)
  x = _x((1, 3, 4))
  y, variables = layer.init_with_output(KEY, x)
  assert calls == [[], []]
  np.testing.assert_allclose(y, nn.MultiHeadDotProductAttention(num_heads=2).apply(variables, x),
                             rtol=1e-6, atol=1e-6)


def test_qkv_features_not_divisible_carries_the_reference_text():
  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.MultiHeadDotProductAttention(num_heads=3, qkv_features=8, name='attn')(x)

  with pytest.raises(AssertionError) as info:
    Outer().init(KEY, _x((1, 3, 4)))
  assert str(info.value).startswith('MultiHeadDotProductAttention "/attn": Memory dimension (8) '
                                    'must be divisible by number of heads (3).')
  assert isinstance(info.value, ValueError)


def test_mismatched_inputs_fail_where_the_reference_fails():
  layer = nn.MultiHeadDotProductAttention(num_heads=2)
  with pytest.raises(AssertionError, match='k, v lengths must match.'):
    layer.init(KEY, _x((1, 3, 4)), _x((1, 5, 4)), _x((1, 6, 4)))
  with pytest.raises(AssertionError, match='q, k, v batch dims must match.'):
    layer.init(KEY, _x((2, 3, 4)), _x((3, 3, 4)))
  with pytest.raises(IndexError, match='tuple index out of range'):
    layer.init(KEY, _x((1, 3, 4)), _x((1, 3, 4)), _x((4,)))


def test_inputs_without_batch_axes_work_as_in_the_reference():
  y, _ = nn.MultiHeadDotProductAttention(num_heads=2).init_with_output(KEY, _x((5, 6)))
  assert y.shape == (5, 6)


def test_inputs_v_without_inputs_k_carries_the_reference_text():
  layer = nn.MultiHeadDotProductAttention(num_heads=2)
  with pytest.raises(ValueError) as info:
    layer.init(KEY, _x((1, 3, 4)), None, _x((1, 5, 4)))
  assert str(info.value) == (
    '`inputs_k` cannot be None if `inputs_v` is not None. To have both `inputs_k` and '
    '`inputs_v` be the same value, pass in the value to `inputs_k` and leave `inputs_v` as '
    'None.')


def test_mask_like_inputs_v_warns_only_when_its_last_two_axes_are_equal():
  layer = nn.MultiHeadDotProductAttention(num_heads=2)
  x = _x((1, 6, 6))
  variables = layer.init(KEY, x)
  with pytest.warns(DeprecationWarning, match=r'You are passing an array of shape \(1, 6, 6\) '
                                              'to the `inputs_v` arg, when you may have '
                                              'intended to pass it to the `mask` arg'):
    layer.apply(variables, x, x, x)
  with warnings.catch_warnings():
    warnings.simplefilter('error')
    layer.apply(variables, x, x)  # no inputs_v: no warning
    layer.apply(variables, _x((1, 5, 6)), _x((1, 4, 6)), _x((1, 4, 6)))  # 4 != 6: none


def test_inputs_kv_is_deprecated_but_works():
  layer = nn.MultiHeadDotProductAttention(num_heads=2)
  x, kv = _x((1, 3, 4)), _x((1, 5, 4), 1)
  variables = layer.init(KEY, x, kv)
  with pytest.warns(DeprecationWarning) as record:
    a = layer.apply(variables, x, inputs_kv=kv)
  assert str(record[0].message) == (
    'The inputs_kv arg will be deprecated soon. Use inputs_k and inputs_v instead. See '
    'https://github.com/google/flax/discussions/3389 for more information.')
  np.testing.assert_array_equal(np.asarray(a), np.asarray(layer.apply(variables, x, kv)))
  with pytest.raises(ValueError, match='^If either `inputs_k` or `inputs_v` is not None, '
                                       '`inputs_kv` must be None. If `inputs_kv` is not None'):
    layer.apply(variables, x, kv, inputs_kv=kv)


def test_dropout_needs_rng_and_deterministic():
  layer = nn.MultiHeadDotProductAttention(num_heads=2, dropout_rate=0.5)
  x = _x((2, 4, 4))
  variables = layer.init(KEY, x, deterministic=True)
  with pytest.raises(ValueError, match='deterministic'):
    layer.apply(variables, x)
  with pytest.raises(errors.InvalidRngError, match='dropout'):
    layer.apply(variables, x, deterministic=False)
  a = layer.apply(variables, x, deterministic=False, rngs={'dropout': jax.random.PRNGKey(1)})
  b = layer.apply(variables, x, deterministic=False, dropout_rng=jax.random.PRNGKey(1))
  c = layer.apply(variables, x, deterministic=True)
  assert not np.allclose(np.asarray(a), np.asarray(c))
  assert b.shape == a.shape
  # the attribute works too
  fixed = nn.MultiHeadDotProductAttention(num_heads=2, dropout_rate=0.5, deterministic=True)
  np.testing.assert_array_equal(np.asarray(fixed.apply(variables, x)), np.asarray(c))


def test_sow_weights_stores_attention_weights():
  layer = nn.MultiHeadDotProductAttention(num_heads=2)
  x = _x((1, 3, 4))
  variables = layer.init(KEY, x)
  _, state = layer.apply(variables, x, sow_weights=True, mutable=['intermediates'])
  (weights,) = state['intermediates']['attention_weights']
  assert weights.shape == (1, 2, 3, 3)
  np.testing.assert_allclose(np.asarray(weights).sum(-1), 1.0, rtol=1e-6)
  _, state = layer.apply(variables, x, mutable=['intermediates'])
  assert 'intermediates' not in state or not state['intermediates']


def test_multi_head_attention_is_the_same_layer_with_its_own_name():
  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.MultiHeadAttention(num_heads=2)(x) + nn.MultiHeadDotProductAttention(2)(x)

  x = _x((1, 3, 4))
  params = Outer().init(KEY, x)['params']
  assert list(params) == ['MultiHeadAttention_0', 'MultiHeadDotProductAttention_0']
  a = nn.MultiHeadAttention(num_heads=2)
  b = nn.MultiHeadDotProductAttention(num_heads=2)
  va = a.init(KEY, x)
  np.testing.assert_array_equal(np.asarray(a.apply(va, x)), np.asarray(b.apply(va, x)))


def test_self_attention_warns_and_matches_mha():
  x = _x((2, 5, 4))
  mask = nn.make_causal_mask(x[..., 0])
  layer = nn.SelfAttention(num_heads=2)
  with pytest.warns(DeprecationWarning, match='SelfAttention'):
    variables = layer.init(KEY, x, mask=mask)
  with warnings.catch_warnings():
    warnings.simplefilter('ignore', DeprecationWarning)
    out = layer.apply(variables, x, mask)
  ref = nn.MultiHeadDotProductAttention(num_heads=2).apply(variables, x, mask=mask)
  np.testing.assert_array_equal(np.asarray(out), np.asarray(ref))


def test_jit_init_and_apply():
  layer = nn.MultiHeadDotProductAttention(num_heads=2)
  x = _x((2, 3, 4))
  variables = jax.jit(layer.init)(KEY, x)
  out = jax.jit(layer.apply)(variables, x)
  np.testing.assert_allclose(np.asarray(out), np.asarray(layer.apply(variables, x)),
                             rtol=1e-6, atol=1e-6)
