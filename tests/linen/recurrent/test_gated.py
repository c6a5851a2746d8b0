"""Tests of GRUCell, MGUCell and SimpleCell."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn

KEY = jax.random.PRNGKey(0)


def _x(shape, seed=0):
  return jnp.asarray(np.random.default_rng(seed).standard_normal(shape).astype(np.float32))


def _sig(z):
  return 1 / (1 + np.exp(-z))


def _lin(p, name, a):
  out = np.asarray(a) @ np.asarray(p[name]['kernel'])
  return out + np.asarray(p[name]['bias']) if 'bias' in p[name] else out


def _run(cell, h, x):
  variables = cell.init(KEY, h, x)
  new_h, y = cell.apply(variables, h, x)
  np.testing.assert_array_equal(np.asarray(new_h), np.asarray(y))
  return variables['params'], np.asarray(new_h)


def test_gru_params_and_equations():
  h, x = _x((2, 4), 1), _x((2, 3), 2)
  p, new_h = _run(nn.GRUCell(features=4), h, x)
  assert list(p) == ['ir', 'hr', 'iz', 'hz', 'in', 'hn']
  assert [list(p[n]) for n in p] == [['kernel', 'bias'], ['kernel']] * 2 + [['kernel', 'bias']] * 2
  r = _sig(_lin(p, 'ir', x) + _lin(p, 'hr', h))
  z = _sig(_lin(p, 'iz', x) + _lin(p, 'hz', h))
  n = np.tanh(_lin(p, 'in', x) + r * _lin(p, 'hn', h))
  np.testing.assert_allclose(new_h, (1 - z) * n + z * np.asarray(h), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('reset_gate', [True, False])
def test_mgu_params_and_equations(reset_gate):
  h, x = _x((2, 4), 3), _x((2, 3), 4)
  p, new_h = _run(nn.MGUCell(features=4, reset_gate=reset_gate), h, x)
  assert list(p) == ['if', 'hf', 'hn', 'in']
  assert ('bias' in p['hn']) == reset_gate
  np.testing.assert_array_equal(np.asarray(p['if']['bias']), 1.0)  # forget bias starts at one
  f = _sig(_lin(p, 'if', x) + _lin(p, 'hf', h))
  rec = _lin(p, 'hn', h)
  n = np.tanh(_lin(p, 'in', x) + (f * rec if reset_gate else rec))
  np.testing.assert_allclose(new_h, (1 - f) * n + f * np.asarray(h), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('residual', [False, True])
def test_simple_cell(residual):
  h, x = _x((2, 3), 5), _x((2, 3), 6)
  p, new_h = _run(nn.SimpleCell(features=3, residual=residual), h, x)
  assert list(p) == ['i', 'h'] and list(p['h']) == ['kernel']
  pre = _lin(p, 'i', x) + _lin(p, 'h', h) + (np.asarray(h) if residual else 0)
  np.testing.assert_allclose(new_h, np.tanh(pre), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('cls', [nn.GRUCell, nn.MGUCell, nn.SimpleCell])
def test_initialize_carry_and_feature_axes(cls):
  cell = cls(features=6, param_dtype=jnp.bfloat16)
  carry = cell.initialize_carry(KEY, (4, 2, 3))
  assert carry.shape == (4, 2, 6) and carry.dtype == jnp.bfloat16
  assert cell.num_feature_axes == 1
  custom = cls(features=2, carry_init=nn.initializers.normal(1.0)).initialize_carry(KEY, (3, 5))
  assert custom.shape == (3, 2) and np.asarray(custom).std() > 0


@pytest.mark.parametrize('cls', [nn.GRUCell, nn.MGUCell, nn.SimpleCell])
def test_dtype_and_param_dtype(cls):
  # (orthogonal init needs a QR, which has no float16 kernel on CPU)
  cell = cls(features=3, dtype=jnp.bfloat16, param_dtype=jnp.float16,
             recurrent_kernel_init=nn.initializers.lecun_normal())
  h, x = jnp.zeros((2, 3), jnp.bfloat16), _x((2, 5))
  variables = cell.init(KEY, h, x)
  assert all(a.dtype == jnp.float16 for a in jax.tree_util.tree_leaves(variables))
  new_h, _ = cell.apply(variables, h, x)
  assert new_h.dtype == jnp.bfloat16


@pytest.mark.parametrize('cls', [nn.GRUCell, nn.MGUCell, nn.SimpleCell])
def test_hidden_size_comes_from_the_carry(cls):
  # as in the reference: ``features`` only sizes initialize_carry's carry
  (new_h, y), variables = cls(features=3).init_with_output(KEY, jnp.zeros((2, 6)), _x((2, 5)))
  assert new_h.shape == y.shape == (2, 6)
  kernels = {name: p['kernel'].shape for name, p in variables['params'].items()}
  assert all(shape[-1] == 6 for shape in kernels.values())
  # a carry with a broadcastable batch is accepted too
  (new_h, _), _ = cls(features=3).init_with_output(KEY, jnp.zeros((1, 3)), _x((2, 5)))
  assert new_h.shape == (2, 3)
