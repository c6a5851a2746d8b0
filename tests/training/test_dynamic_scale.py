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


def test_defaults_and_repr_match_the_reference():
  ds = DynamicScale()
  assert type(ds.minimum_scale) is np.float32
  assert ds.minimum_scale == np.finfo(np.float32).tiny
  assert repr(ds) == (
    'DynamicScale(growth_factor=2.0, backoff_factor=0.5, growth_interval=2000, fin_steps=0, '
    'scale=65536.0, minimum_scale=np.float32(1.1754944e-38))'
  )
  assert DynamicScale(minimum_scale=None).value_and_grad(lambda w: jnp.log(w))(
    jnp.float32(0.0)).dynamic_scale.scale == 32768.0  # no lower bound


def test_scale_sequence_bit_for_bit():
  # a run with growth (interval 3), backoffs to the minimum and float16 losses; the scale
  # bytes below are what the reference produces for the same steps
  def loss(w, x):
    y = jnp.asarray(w, jnp.float16) * x
    return (y.astype(jnp.float32) ** 2).sum() * 1e-3, {'y': y}

  ds = DynamicScale(growth_interval=3, scale=2.0 ** 14, minimum_scale=4.0)
  step = jax.jit(lambda ds, w, x: ds.value_and_grad(loss, has_aux=True)(w, x))
  w = jnp.linspace(-1, 1, 5, dtype=jnp.float32)
  seen = []
  for i in range(12):
    x = jnp.float16(1e3 if i in (4, 5, 9) else 0.37 * (i + 1))
    ds, finite, _, _ = step(ds, w, x)
    seen.append((bool(finite), float(ds.scale), int(ds.fin_steps)))
  assert seen == [
    (True, 16384.0, 1), (True, 16384.0, 2), (True, 16384.0, 3), (True, 32768.0, 0),
    (False, 16384.0, 0), (False, 8192.0, 0), (True, 8192.0, 1), (True, 8192.0, 2),
    (True, 8192.0, 3), (False, 4096.0, 0), (True, 4096.0, 1), (True, 4096.0, 2),
  ]
