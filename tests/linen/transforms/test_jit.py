"""nn.jit: same results, traced once across calls, rng forking, static_argnums, decorator."""

import jax
import jax.numpy as jnp
import numpy as np

from flaxen import linen as nn

TRACES = []


class Counted(nn.Module):
  features: int = 3

  @nn.compact
  def __call__(self, x, scale=1.0):
    TRACES.append(1)
    return nn.Dense(self.features)(x) * scale


def test_no_retrace_on_repeated_calls():
  jitted_cls = nn.jit(Counted)
  model = jitted_cls()
  x = jnp.ones((2, 4))
  v = model.init(jax.random.PRNGKey(0), x)
  TRACES.clear()
  outs = [model.apply(v, x) for _ in range(4)]
  assert len(TRACES) == 1
  for o in outs[1:]:
    np.testing.assert_array_equal(o, outs[0])
  model.apply(v, jnp.ones((3, 4)))  # a new shape traces again
  assert len(TRACES) == 2
  model2 = jitted_cls(features=3)
  model2.apply(v, x)  # an equal module reuses the trace
  assert len(TRACES) == 2


def test_matches_unjitted():
  x = jnp.arange(8.0).reshape(2, 4)
  v = nn.jit(Counted)().init(jax.random.PRNGKey(0), x)
  plain = Counted().apply(v, x)
  np.testing.assert_allclose(nn.jit(Counted)().apply(v, x), plain, rtol=1e-6)


def test_static_argnums_count_self():
  class Flag(nn.Module):
    @nn.compact
    def __call__(self, x, double):
      y = nn.Dense(2)(x)
      return y * 2 if double else y

  m = nn.jit(Flag, static_argnums=(2,))()
  v = m.init(jax.random.PRNGKey(0), jnp.ones((1, 3)), False)
  np.testing.assert_allclose(m.apply(v, jnp.ones((1, 3)), True),
                             2 * m.apply(v, jnp.ones((1, 3)), False), rtol=1e-6)


def test_method_decorator_and_rng_fork():
  class Noisy(nn.Module):
    @nn.jit
    @nn.compact
    def __call__(self, x):
      return x + jax.random.normal(self.make_rng('noise'), x.shape)

  m = Noisy()
  a = m.apply({}, jnp.zeros(2), rngs={'noise': jax.random.PRNGKey(0)})
  b = m.apply({}, jnp.zeros(2), rngs={'noise': jax.random.PRNGKey(0)})
  np.testing.assert_array_equal(a, b)
  assert not np.allclose(a, m.apply({}, jnp.zeros(2), rngs={'noise': jax.random.PRNGKey(1)}))
