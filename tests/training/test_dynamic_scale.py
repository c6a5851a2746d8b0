"""DynamicScale: scaled gradients, growth, backoff, minimum, pmean."""

import jax
import jax.numpy as jnp
import numpy as np

from flaxen.training.dynamic_scale import DynamicScale, DynamicScaleResult


def test_finite_step_and_growth():
  ds = DynamicScale(growth_interval=2, scale=8.0)
  fn = jax.jit(ds.value_and_grad(lambda w: (w ** 2).sum()))
  res = fn(jnp.array([1.0, 2.0]))
  assert isinstance(res, DynamicScaleResult)
  assert bool(res.finite) and float(res.aux) == 5.0
  np.testing.assert_allclose(res.grad, [2.0, 4.0])
  ds = res.dynamic_scale
  step = jax.jit(lambda ds, w: ds.value_and_grad(lambda w: (w ** 2).sum())(w).dynamic_scale)
  for expected_scale, expected_steps in [(8.0, 2), (16.0, 0), (16.0, 1)]:
    ds = step(ds, jnp.ones(2))
    assert float(ds.scale) == expected_scale and int(ds.fin_steps) == expected_steps


def test_nonfinite_backs_off_with_minimum_and_aux():
  ds = DynamicScale(scale=4.0, minimum_scale=3.0)

  def loss(w):
    return jnp.log(w).sum(), {'n': 1}

  fn = jax.jit(ds.value_and_grad(loss, has_aux=True))
  ds2, finite, (value, aux), grad = fn(jnp.array([0.0, 1.0]))
  assert not bool(finite) and aux == {'n': 1}
  assert float(ds2.scale) == 3.0 and int(ds2.fin_steps) == 0
  assert grad.dtype == jnp.float32


def test_jit_and_argnums_and_pmean():
  ds = DynamicScale()
  f = jax.jit(lambda ds, a, b: ds.value_and_grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(a, b))
  res = f(ds, jnp.ones(3), jnp.full(3, 2.0))
  np.testing.assert_allclose(res.grad[0], 2.0)
  np.testing.assert_allclose(res.grad[1], 1.0)
  n = jax.local_device_count()
  pf = jax.pmap(lambda x: ds.value_and_grad(lambda w: (w * x).sum(), axis_name='i')(jnp.ones(1)).grad,
                axis_name='i')
  np.testing.assert_allclose(pf(jnp.arange(n, dtype=jnp.float32)[:, None]), (n - 1) / 2)


def test_float16_gradients_are_rescued():
  ds = DynamicScale(scale=2.0 ** 15)
  w = jnp.full((4,), 1e-4, jnp.float16)
  res = jax.jit(ds.value_and_grad(lambda w: (w ** 2).sum() * jnp.float16(1e-3)))(w)
  assert bool(res.finite) and float(res.grad[0]) > 0
