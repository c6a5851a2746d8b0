"""Conv, ConvLocal and ConvTranspose: layouts, padding modes, batch dims, errors."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)
RNG = np.random.default_rng(0)
X2 = jnp.asarray(RNG.standard_normal((2, 6, 5, 3)), jnp.float32)
X1 = jnp.asarray(RNG.standard_normal((2, 7, 3)), jnp.float32)


def np_conv(x, k, pads=None):
  """Stride-1 cross-correlation of (B, *S, C) with (*K, C, F) after explicit zero padding."""
  if pads is not None:
    x = np.pad(x, [(0, 0)] + list(pads) + [(0, 0)])
  ks = k.shape[:-2]
  out_s = [s - kk + 1 for s, kk in zip(x.shape[1:-1], ks)]
  out = np.zeros((x.shape[0], *out_s, k.shape[-1]))
  for idx in np.ndindex(*out_s):
    win = x[(slice(None),) + tuple(slice(i, i + kk) for i, kk in zip(idx, ks)) + (slice(None),)]
    out[(slice(None),) + idx + (slice(None),)] = np.tensordot(win, k, axes=len(ks) + 1)
  return out


def test_conv_same_matches_numpy():
  layer = nn.Conv(4, (3, 3))
  variables = layer.init(KEY, X2)
  k = np.asarray(variables['params']['kernel'])
  assert k.shape == (3, 3, 3, 4) and variables['params']['bias'].shape == (4,)
  np.testing.assert_allclose(layer.apply(variables, X2), np_conv(np.asarray(X2), k, ((1, 1),) * 2),
                             rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize('padding, pads', [
  ('VALID', ((0, 0), (0, 0))), ('valid', ((0, 0), (0, 0))), (1, ((1, 1), (1, 1))),
  (((1, 2), (0, 1)), ((1, 2), (0, 1))), ((2, (0, 1)), ((2, 2), (0, 1))),
])
def test_conv_padding_forms(padding, pads):
  layer = nn.Conv(2, (3, 2), padding=padding, use_bias=False)
  variables = layer.init(KEY, X2)
  k = np.asarray(variables['params']['kernel'])
  np.testing.assert_allclose(layer.apply(variables, X2), np_conv(np.asarray(X2), k, pads),
                             rtol=1e-4, atol=1e-5)


def test_conv_circular_and_reflect():
  for mode, np_mode in (('CIRCULAR', 'wrap'), ('REFLECT', 'reflect')):
    layer = nn.Conv(2, (3, 3), padding=mode, use_bias=False)
    variables = layer.init(KEY, X2)
    k = np.asarray(variables['params']['kernel'])
    xp = np.pad(np.asarray(X2), [(0, 0), (1, 1), (1, 1), (0, 0)], mode=np_mode)
    np.testing.assert_allclose(layer.apply(variables, X2), np_conv(xp, k), rtol=1e-4, atol=1e-5)


def test_conv_causal_keeps_length_and_is_causal():
  layer = nn.Conv(2, (3,), padding='CAUSAL', kernel_dilation=2)
  variables = layer.init(KEY, X1)
  y = layer.apply(variables, X1)
  assert y.shape == (2, 7, 2)
  x_changed = X1.at[:, 5:].set(100.0)
  np.testing.assert_allclose(layer.apply(variables, x_changed)[:, :5], y[:, :5], rtol=1e-6)


def test_conv_strides_dilation_groups():
  layer = nn.Conv(6, (3, 3), strides=2, kernel_dilation=(1, 2), feature_group_count=3,
                  padding='VALID')
  variables = layer.init(KEY, jnp.ones((1, 9, 9, 3)))
  assert variables['params']['kernel'].shape == (3, 3, 1, 6)
  assert layer.apply(variables, jnp.ones((1, 9, 9, 3))).shape == (1, 4, 3, 6)
  up = nn.Conv(2, (3, 3), input_dilation=2, padding=1)
  v = up.init(KEY, jnp.ones((1, 4, 4, 1)))
  assert up.apply(v, jnp.ones((1, 4, 4, 1))).shape == (1, 7, 7, 2)


def test_conv_batch_dims_added_and_flattened():
  layer = nn.Conv(4, (3, 3))
  variables = layer.init(KEY, X2)
  y = layer.apply(variables, X2)
  np.testing.assert_allclose(layer.apply(variables, X2[0]), y[0], rtol=1e-5, atol=1e-6)
  stacked = jnp.stack([X2, 2 * X2])
  y2 = layer.apply(variables, stacked)
  assert y2.shape == (2,) + y.shape
  np.testing.assert_allclose(y2[0], y, rtol=1e-5, atol=1e-6)


def test_conv_int_kernel_size_is_1d():
  variables = nn.Conv(2, 3).init(KEY, X1)
  assert variables['params']['kernel'].shape == (3, 3, 2)


def test_conv_mask_multiplies_kernel():
  mask = jnp.zeros((3, 3, 3, 4)).at[1, 1].set(1.0)
  layer = nn.Conv(4, (3, 3), mask=mask, use_bias=False)
  variables = layer.init(KEY, X2)
  k = np.asarray(variables['params']['kernel'])[1, 1]
  np.testing.assert_allclose(layer.apply(variables, X2), np.asarray(X2) @ k, rtol=1e-4, atol=1e-5)


def test_conv_local_kernel_per_position():
  layer = nn.ConvLocal(4, (3, 3))
  x = jnp.ones((2, 5, 5, 2))
  variables = layer.init(KEY, x)
  assert variables['params']['kernel'].shape == (5, 5, 18, 4)
  assert variables['params']['bias'].shape == (5, 5, 4)
  assert layer.apply(variables, x).shape == (2, 5, 5, 4)


def test_conv_transpose_shapes_and_equivalence():
  layer = nn.ConvTranspose(4, (3, 3), strides=(2, 2))
  x = jnp.ones((2, 4, 4, 3))
  variables = layer.init(KEY, x)
  assert variables['params']['kernel'].shape == (3, 3, 3, 4)
  assert layer.apply(variables, x).shape == (2, 8, 8, 4)
  # stride 1, SAME, untransposed kernel: equals a SAME convolution with the same kernel.
  t = nn.ConvTranspose(2, (3, 3), use_bias=False)
  vt = t.init(KEY, X2)
  k = np.asarray(vt['params']['kernel'])
  np.testing.assert_allclose(t.apply(vt, X2), np_conv(np.asarray(X2), k, ((1, 1),) * 2),
                             rtol=1e-4, atol=1e-5)


def test_conv_transpose_circular_has_period_size_output():
  layer = nn.ConvTranspose(3, (3, 3), strides=(2, 2), padding='CIRCULAR')
  x = jnp.asarray(RNG.standard_normal((1, 4, 4, 2)), jnp.float32)
  variables = layer.init(KEY, x)
  y = layer.apply(variables, x)
  assert y.shape == (1, 8, 8, 3)
  # Rolling the input by one pixel rolls the output by one stride.
  y_rolled = layer.apply(variables, jnp.roll(x, 1, axis=1))
  np.testing.assert_allclose(y_rolled, jnp.roll(y, 2, axis=1), rtol=1e-4, atol=1e-5)


def test_conv_transpose_kernel_layout_when_transposed():
  layer = nn.ConvTranspose(4, (3, 3), transpose_kernel=True)
  variables = layer.init(KEY, jnp.ones((1, 4, 4, 3)))
  assert variables['params']['kernel'].shape == (3, 3, 4, 3)


@pytest.mark.parametrize('layer, x, exc, text', [
  (nn.Conv(2, (3, 3), padding='CAUSAL'), X2, ValueError,
   'Causal padding is only implemented for 1D convolutions.'),
  (nn.Conv(2, (3, 3), padding=[(1, 1)]), X2, ValueError,
   'Invalid padding format: ((1, 1),), should be str, int, or a sequence of len 2 where each '
   'element is an int or pair of ints.'),
  (nn.Conv(4, (3,), mask=jnp.ones((3, 3, 5))), X1, ValueError,
   'Mask needs to have the same shape as weights. Shapes are: (3, 3, 5), (3, 3, 4)'),
  (nn.ConvTranspose(4, (3,), mask=jnp.ones((3, 3, 5))), X1, ValueError,
   'Mask needs to have the same shape as weights. Shapes are: (3, 3, 5), (3, 3, 4)'),
  (nn.ConvLocal(4, (3, 3), feature_group_count=3), X2, NotImplementedError,
   '`lax.conv_general_dilated_local` does not support `feature_group_count != 1`, got `3`.'),
])
def test_conv_errors_carry_the_reference_text_behind_the_layer(layer, x, exc, text):
  with pytest.raises(exc) as info:
    layer.init(KEY, x)
  assert type(info.value) is exc
  assert str(info.value).startswith(f'{type(layer).__name__} "/": {text}')


def test_groups_must_divide_the_input_features():
  # the reference asserts it (AssertionError); flaxen's error is also a ValueError
  with pytest.raises(AssertionError, match='feature_group_count=3 must divide the input'):
    nn.Conv(6, (3,), feature_group_count=3).init(KEY, X1[..., :2])
  # features not divisible by the groups: lax refuses, as in the reference
  with pytest.raises((TypeError, ValueError), match='multiple of feature_group_count'):
    nn.Conv(4, (3,), feature_group_count=3).init(KEY, jnp.ones((1, 5, 6)))


@pytest.mark.parametrize('layer', [nn.Conv(2, (3, 3), padding='FOO'),
                                   nn.ConvTranspose(2, (3,), padding='CAUSAL'),
                                   nn.ConvTranspose(2, (3,), padding='REFLECT')])
def test_unknown_padding_strings_fail_in_lax_as_in_the_reference(layer):
  x = X2 if len(layer.kernel_size) == 2 else X1
  with pytest.raises(RuntimeError, match='Unrecognized padding type'):
    layer.init(KEY, x)


def test_too_low_rank_fails_in_lax_with_a_note_naming_the_layer():
  with pytest.raises(ValueError) as info:
    nn.Conv(2, (3, 3)).init(KEY, jnp.ones((5, 2)))
  notes = getattr(info.value, '__notes__', [])
  assert any(n.startswith('Conv "/": expected inputs (*batch, 2 spatial axes, features)')
             for n in notes)


def test_layers_accept_what_the_reference_accepts():
  # an empty kernel_size (a per-position dense map) and per-dim settings of any length
  y, v = nn.Conv(3, ()).init_with_output(KEY, jnp.ones((4, 2)))
  assert y.shape == (4, 3) and v['params']['kernel'].shape == (2, 3)
  y, _ = nn.Conv(4, (3,), strides=None, input_dilation=None, kernel_dilation=None
                 ).init_with_output(KEY, X1)
  assert y.shape == (2, 7, 4)
  # ConvTranspose hands lower-case strings to lax unchanged ('valid' is not 'VALID' there)
  y, _ = nn.ConvTranspose(4, (3,), padding='valid').init_with_output(KEY, jnp.ones((1, 4, 3)))
  assert y.shape == (1, 2, 4)
  y, _ = nn.ConvTranspose(4, (3,), kernel_dilation=2).init_with_output(KEY, jnp.ones((1, 5, 2)))
  assert y.shape == (1, 5, 4)


def test_conv_transpose_preferred_element_type():
  layer = nn.ConvTranspose(4, (3,), dtype=jnp.bfloat16, preferred_element_type=jnp.float32,
                           use_bias=False)
  y, variables = layer.init_with_output(KEY, X1)
  assert y.dtype == jnp.float32
  ref = jax.lax.conv_transpose(X1.astype(jnp.bfloat16),
                               variables['params']['kernel'].astype(jnp.bfloat16), (1,), 'SAME',
                               rhs_dilation=(1,), preferred_element_type=jnp.float32)
  np.testing.assert_array_equal(y, ref)


CONV_FIELDS = ('features', 'kernel_size', 'strides', 'padding', 'input_dilation',
               'kernel_dilation', 'feature_group_count', 'use_bias', 'mask', 'dtype',
               'param_dtype', 'precision', 'kernel_init', 'bias_init', 'promote_dtype',
               'conv_general_dilated', 'conv_general_dilated_cls')
CONV_TRANSPOSE_FIELDS = ('features', 'kernel_size', 'strides', 'padding', 'kernel_dilation',
                         'use_bias', 'mask', 'dtype', 'param_dtype', 'precision', 'kernel_init',
                         'bias_init', 'transpose_kernel', 'promote_dtype',
                         'preferred_element_type')


@pytest.mark.parametrize('cls, fields', [(nn.Conv, CONV_FIELDS), (nn.ConvLocal, CONV_FIELDS),
                                         (nn.ConvTranspose, CONV_TRANSPOSE_FIELDS)])
def test_field_order_is_the_references(cls, fields):
  assert tuple(f.name for f in dataclasses.fields(cls))[:-2] == fields


def test_partitioned_kernel_and_bias_keep_their_boxes():
  kinit = nn.meta.with_partitioning(nn.initializers.lecun_normal(), (None, None, None, 'model'))
  binit = nn.meta.with_partitioning(nn.initializers.zeros, ('model',))
  layer = nn.Conv(4, (3, 3), kernel_init=kinit, bias_init=binit)
  variables = layer.init(KEY, X2)
  assert variables['params']['kernel'].names == (None, None, None, 'model')
  assert variables['params']['bias'].names == ('model',)
  plain = nn.meta.unbox(variables)
  np.testing.assert_allclose(layer.apply(variables, X2), nn.Conv(4, (3, 3)).apply(plain, X2),
                             rtol=1e-6)
