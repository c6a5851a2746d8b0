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


def test_config_dataclass_fields_hit_the_cache():
  import dataclasses

  traces = []

  @dataclasses.dataclass  # unhashable (eq without frozen): compared by content
  class Config:
    features: int = 4

  class Model(nn.Module):
    cfg: Config

    @nn.jit
    @nn.compact
    def __call__(self, x):
      traces.append(1)
      return nn.Dense(self.cfg.features)(x)

  x = jnp.ones((2, 3))
  v = Model(Config()).init(jax.random.key(0), x)
  traces.clear()
  for _ in range(3):
    Model(Config()).apply(v, x)  # a new module and a new (equal) config every step
  assert len(traces) == 1
  Model(Config(features=4)).apply(v, x)
  assert len(traces) == 1


def test_one_trace_for_one_configuration_at_several_places():
  traces = []

  class Block(nn.Module):
    @nn.jit
    @nn.compact
    def __call__(self, x):
      traces.append(1)
      return nn.Dense(3)(x)

  class Stack(nn.Module):
    def setup(self):
      self.blocks = [Block() for _ in range(3)]

    def __call__(self, x):
      for b in self.blocks:
        x = b(x)
      return x

  v = Stack().init(jax.random.key(0), jnp.ones((2, 3)))
  traces.clear()
  y = Stack().apply(v, jnp.ones((2, 3)))
  assert len(traces) == 1  # layers_1 and layers_2 reuse the trace of layers_0
  x = jnp.ones((2, 3))
  for i in range(3):
    x = nn.Dense(3).apply({'params': v['params'][f'blocks_{i}']['Dense_0']}, x)
  np.testing.assert_allclose(y, x, rtol=1e-6)


def test_a_changed_configuration_traces_again():
  traces = []

  class Scale(nn.Module):
    factor: float
    table: object = None

    @nn.jit
    def __call__(self, x):
      traces.append(1)
      return x * self.factor

  x = jnp.ones(2)
  np.testing.assert_allclose(Scale(2.0).apply({}, x), 2.0)
  np.testing.assert_allclose(Scale(3.0).apply({}, x), 3.0)
  Scale(3.0, {'a': [1, 2]}).apply({}, x)
  Scale(3.0, {'a': [1, 2]}).apply({}, x)  # equal (unhashable) contents: cached
  assert len(traces) == 3
  arr = jnp.ones(3)
  Scale(3.0, arr).apply({}, x)
  Scale(3.0, arr).apply({}, x)  # the same array object: cached
  Scale(3.0, jnp.ones(3)).apply({}, x)  # another array: compared by identity
  assert len(traces) == 5


def test_module_argument_with_another_configuration_traces_again():
  traces = []

  class Apply(nn.Module):
    @nn.jit
    def __call__(self, m, x):
      traces.append(1)
      return m(x)

  class Outer(nn.Module):
    features: int

    def setup(self):
      self.d = nn.Dense(self.features)
      self.a = Apply()

    def __call__(self, x):
      return self.a(self.d, x)

  x = jnp.ones((1, 3))
  v2, v4 = (Outer(f).init(jax.random.key(0), x) for f in (2, 4))
  traces.clear()
  assert Outer(2).apply(v2, x).shape == (1, 2)
  assert Outer(2).apply(v2, x).shape == (1, 2)
  assert len(traces) == 1
  assert Outer(4).apply(v4, x).shape == (1, 4)
  assert len(traces) == 2


def test_the_trace_cache_keeps_no_call_alive():
  import gc
  import weakref

  roots = []

  class Keep(nn.Module):
    @nn.jit
    @nn.compact
    def __call__(self, x):
      return nn.Dense(2)(x)

  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
      roots.append(weakref.ref(self.scope.root))
      return Keep()(x)

  x = jnp.ones((1, 3))
  v = Outer().init(jax.random.key(0), x)
  Outer().apply(v, x)
  gc.collect()
  assert roots and all(r() is None for r in roots)


def test_stateful_submodule_and_scan_inside_jit_trace_once():
  traces = []

  class Body(nn.Module):
    @nn.compact
    def __call__(self, c, _):
      traces.append('scan body')
      return nn.Dense(3)(c), None

  class Model(nn.Module):
    jitted: bool = True

    def setup(self):
      self.bn = nn.BatchNorm(use_running_average=False)
      self.stack = nn.scan(Body, variable_axes={'params': 0}, split_rngs={'params': True},
                           length=2)()

    def run(self, x):
      traces.append('method')
      return self.bn(self.stack(x, None)[0])

    run_jitted = nn.jit(run)

    def __call__(self, x):
      return self.run_jitted(x) if self.jitted else self.run(x)

  x = jnp.arange(6.0).reshape(2, 3)
  v = Model().init(jax.random.key(0), x)
  traces.clear()
  outs = []
  for _ in range(3):
    y, upd = Model().apply(v, x, mutable=['batch_stats'])
    outs.append((y, upd))
  assert traces.count('method') == 1
  plain, plain_upd = Model(jitted=False).apply(v, x, mutable=['batch_stats'])
  for y, upd in outs:
    np.testing.assert_allclose(y, plain, rtol=1e-5, atol=1e-6)
    jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5), upd,
                           plain_upd)


def test_methods_dict_gives_each_method_its_options():
  class Two(nn.Module):
    @nn.compact
    def __call__(self, x, double):
      y = nn.Dense(2, name='d')(x)
      return y * 2 if double else y

    def other(self, x, double):
      return self(x, double) + 1

  jitted = nn.jit(Two, methods={'__call__': {'static_argnums': (2,)},
                                'other': {'static_argnums': (2,)}})
  m = jitted()
  x = jnp.ones((1, 3))
  v = m.init(jax.random.key(0), x, False)
  np.testing.assert_allclose(m.apply(v, x, True), 2 * m.apply(v, x, False), rtol=1e-6)
  np.testing.assert_allclose(m.apply(v, x, True, method='other'), 2 * m.apply(v, x, False) + 1,
                             rtol=1e-6)


def test_jit_over_an_overridden_init_with_output():
  # nn.jit on a method of an unbound module: no scope to lift, the method runs jitted
  traces = []

  class Foo(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.Dense(2)(x)

    @nn.jit
    def init_with_output(self, rngs, *args, **kwargs):
      traces.append(1)
      return super().init_with_output(rngs, *args, **kwargs)

  x = jnp.ones((2, 3))
  y, v = Foo().init_with_output(jax.random.key(0), x)
  y_plain, v_plain = nn.Dense(2, name='Dense_0').init_with_output(jax.random.key(0), x)
  assert y.shape == (2, 2) and v['params']['Dense_0']['kernel'].shape == (3, 2)
  y2, _ = Foo().init_with_output(jax.random.key(0), x)
  np.testing.assert_array_equal(y, y2)
  assert len(traces) == 1  # a new, equal Foo hits the cache
  y3, _ = Foo().init_with_output(jax.random.key(1), x)
  assert len(traces) == 1 and not np.array_equal(y, y3)
  assert y_plain.shape == y.shape and v_plain['params']['kernel'].shape == (3, 2)


def test_jit_method_of_an_unbound_module_uses_its_fields():
  class Scale(nn.Module):
    factor: float = 3.0

    @nn.jit
    def scale(self, x):
      return x * self.factor

  np.testing.assert_array_equal(Scale().scale(jnp.ones(2)), [3.0, 3.0])
  np.testing.assert_array_equal(Scale(2.0).scale(jnp.ones(2)), [2.0, 2.0])
