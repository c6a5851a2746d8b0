"""Einsum: kernel and bias layout (the reference's, bias in output order), dtypes, errors.

Expected shapes and messages were learned by running the reference (flax 0.12) on
the same equations.
"""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)
X = jnp.asarray(np.random.default_rng(0).standard_normal((2, 3, 5)), jnp.float32)


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


@pytest.mark.parametrize('shape, equation, x_shape, bias_shape', [
  # kernel letters d, e appear in the output as e, d: the bias follows the output
  ((5, 3, 4), 'abc,cde->abed', (2, 6, 5), (4, 3)),
  ((3, 5, 4), 'abc,dce->aedb', (2, 6, 5), (4, 3)),
  ((5, 3), '...c,cd->...d', (2, 6, 5), (3,)),
  ((7, 5, 3), '...c,...cd->...d', (2, 7, 5), (7, 3)),
  ((2, 7, 5, 3), '...c,...cd->...dc', (7, 5), (2, 7, 3, 5)),
  ((5, 3), 'ab c , cd -> ab d', (2, 6, 5), (3,)),
])
def test_bias_has_the_output_order_of_the_kernel_letters(shape, equation, x_shape, bias_shape):
  x = jnp.asarray(np.random.default_rng(1).standard_normal(x_shape), jnp.float32)
  layer = nn.Einsum(shape, equation, bias_init=nn.initializers.normal(1.0))
  y, variables = layer.init_with_output(KEY, x)
  p = variables['params']
  assert p['kernel'].shape == shape and p['bias'].shape == bias_shape
  eq = equation.replace(' ', '')
  out_letters = eq.split('->')[1]
  kernel_letters = eq.split('->')[0].split(',')[1]
  no_bias = np.einsum(eq, np.asarray(x), np.asarray(p['kernel']))
  # place the bias axes on the output axes named by kernel letters (ellipses aside)
  if '...' not in eq:
    expanded = np.asarray(p['bias']).reshape(
      [shape[kernel_letters.index(c)] if c in kernel_letters else 1 for c in out_letters])
    np.testing.assert_allclose(y, no_bias + expanded, rtol=1e-5, atol=1e-5)
  else:
    assert y.shape == no_bias.shape


def test_preferred_element_type_sets_the_result_dtype():
  layer = nn.Einsum((5, 3), 'abc,cd->abd', dtype=jnp.bfloat16,
                    preferred_element_type=jnp.float32, use_bias=False)
  y, variables = layer.init_with_output(KEY, X)
  assert y.dtype == jnp.float32
  ref = jnp.einsum('abc,cd->abd', X.astype(jnp.bfloat16),
                   variables['params']['kernel'].astype(jnp.bfloat16),
                   preferred_element_type=jnp.float32)
  np.testing.assert_array_equal(y, ref)
  plain = nn.Einsum((5, 3), 'abc,cd->abd', dtype=jnp.bfloat16, use_bias=False)
  assert plain.apply(variables, X).dtype == jnp.bfloat16


def test_field_order_is_the_references():
  names = tuple(f.name for f in dataclasses.fields(nn.Einsum))
  assert names == ('shape', 'einsum_str', 'use_bias', 'dtype', 'param_dtype', 'precision',
                   'kernel_init', 'bias_init', 'promote_dtype', 'preferred_element_type',
                   'parent', 'name')


@pytest.mark.parametrize('equation, text', [
  ('abc,cd', '`einsum_str` equation must be explicit and include "->".'),
  ('abc,cd,de->abe', '`einsum_str` equation must have exactly two operands and therefore, '
                     'exactly one comma character, instead of 2'),
  ('abc->ab', '`einsum_str` equation must have exactly two operands and therefore, exactly '
              'one comma character, instead of 0'),
])
def test_equation_errors_carry_the_reference_text(equation, text):
  with pytest.raises(ValueError) as info:
    nn.Einsum((5, 3), equation).init(KEY, X)
  assert str(info.value).startswith(f'Einsum "/": {text}')


def test_einsum_str_must_come_from_exactly_one_place():
  with pytest.raises(ValueError, match='einsum_str'):
    nn.Einsum((5, 3)).init(KEY, X)  # neither field nor call argument
  with pytest.raises(ValueError, match='einsum_str'):
    nn.Einsum((5, 3), 'abc,cd->abd').init(KEY, X, einsum_str='abc,cd->abd')


def test_kernel_rank_must_match_the_equation():
  # the reference asserts this (an AssertionError); flaxen says what does not fit
  with pytest.raises(AssertionError, match='names 2 distinct axes but shape=\\(5, 3, 4\\)'):
    nn.Einsum((5, 3, 4), 'abc,cd->abd').init(KEY, X)
