"""The bridge: targets, naming, errors, state hand-over, scopes of fields and arguments."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import errors
from flaxen import linen as nn


class MLP(nn.Module):
  @nn.compact
  def __call__(self, x):
    return nn.Dense(1, name='out')(nn.relu(nn.Dense(4, name='hidden')(x)))


def test_instance_target_raises():
  with pytest.raises(errors.TransformTargetError):
    nn.vmap(nn.Dense(3))
  with pytest.raises(errors.TransformTargetError):
    nn.jit(nn.Dense(3))


def test_transformed_class_name_and_subclass():
  cls = nn.vmap(MLP, variable_axes={'params': 0}, split_rngs={'params': True})
  assert cls.__name__ == 'VmapMLP' and issubclass(cls, MLP)
  assert nn.remat(MLP).__name__ == nn.checkpoint(MLP).__name__ == 'CheckpointMLP'


def test_raw_jax_transforms_over_bound_modules_work_as_in_the_reference():
  class Naive(nn.Module):
    @nn.compact
    def __call__(self, xs):
      mlp = MLP()
      return jax.vmap(lambda x: mlp(x))(xs)

  xs = jnp.ones((3, 4))
  v = Naive().init(jax.random.PRNGKey(0), xs)
  y = Naive().apply(v, xs)
  want = MLP().apply({'params': v['params']['MLP_0']}, xs)
  np.testing.assert_allclose(y, want, rtol=1e-6)
  bound = MLP().bind({'params': v['params']['MLP_0']})
  np.testing.assert_allclose(jax.jit(lambda x: bound(x))(xs), want, rtol=1e-6)
  grads = jax.grad(lambda x: bound(x).sum())(xs)
  assert grads.shape == xs.shape


def test_returning_modules_or_variables_raises():
  class ReturnsModule(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.Dense(2)

  class ReturnsVariable(nn.Module):
    @nn.compact
    def __call__(self, x):
      return self.variable('state', 'v', lambda: 1)

  for t in (nn.jit, nn.remat):
    with pytest.raises(errors.TransformedMethodReturnValueError, match='__call__'):
      t(ReturnsModule)().init(jax.random.PRNGKey(0), jnp.ones(2))
  with pytest.raises(errors.TransformedMethodReturnValueError):
    nn.remat(ReturnsVariable)().init(jax.random.PRNGKey(0), jnp.ones(2))


def test_auto_names_continue_across_transform():
  class M(nn.Module):
    @nn.compact
    def __call__(self, x):
      x = nn.Dense(2)(x)
      x = nn.remat(lambda mdl, x: nn.Dense(2)(x))(self, x)
      return nn.Dense(2)(x)

  v = M().init(jax.random.PRNGKey(0), jnp.ones((1, 2)))
  assert list(v['params']) == ['Dense_0', 'Dense_1', 'Dense_2']


def test_setup_submodules_are_rebound_inside():
  class WithSetup(nn.Module):
    def setup(self):
      self.dense = nn.Dense(3)

    def __call__(self, x):
      return self.dense(x)

  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.vmap(WithSetup, variable_axes={'params': 0}, split_rngs={'params': True})()(x)

  v = Outer().init(jax.random.PRNGKey(0), jnp.ones((2, 4)))
  assert v['params']['VmapWithSetup_0']['dense']['kernel'].shape == (2, 4, 3)


def test_field_submodule_shared_from_parent_is_lifted():
  class Tower(nn.Module):
    dense: nn.Module

    @nn.compact
    def __call__(self, x):
      return nn.Dense(2)(self.dense(x))

  class Model(nn.Module):
    def setup(self):
      self.shared = nn.Dense(3)
      self.tower = nn.remat(Tower)(self.shared)

    def __call__(self, x):
      return self.tower(x) + self.shared(x).sum()

  x = jnp.ones((1, 4))
  v = Model().init(jax.random.PRNGKey(0), x)
  assert set(v['params']) == {'shared', 'tower'}
  assert 'shared' not in v['params']['tower']
  y = Model().apply(v, x)
  ref = x @ v['params']['shared']['kernel'] + v['params']['shared']['bias'][None]
  t = v['params']['tower']['Dense_0']
  np.testing.assert_allclose(y, ref @ t['kernel'] + t['bias'][None] + ref.sum(), rtol=1e-5)


def test_module_passed_as_argument():
  def body(mdl, other, x):
    return mdl(x) + other(x)

  class M(nn.Module):
    @nn.compact
    def __call__(self, x):
      a, b = nn.Dense(2, name='a'), nn.Dense(2, name='b')
      return nn.remat(body)(a, b, x)

  v = M().init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
  assert set(v['params']) == {'a', 'b'}


def test_methods_argument():
  class TwoMethods(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.Dense(2, name='d')(x)

    def other(self, x):
      return self(x) * 2

  cls = nn.jit(TwoMethods, methods=['__call__', 'other'])
  v = cls().init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
  y = cls().apply(v, jnp.ones((1, 3)), method='other')
  np.testing.assert_allclose(y, 2 * cls().apply(v, jnp.ones((1, 3))), rtol=1e-6)


def test_calling_unbound_transformed_module_raises():
  with pytest.raises(errors.CallCompactUnboundModuleError):
    nn.remat(nn.Dense)(2)(jnp.ones((1, 2)))


class Scaled(nn.Module):
  @nn.compact
  def __call__(self, x, scale=1.0):
    return nn.Dense(3)(x) * scale


def _scaled(mdl, x, scale):
  return mdl(x, scale)


@pytest.mark.parametrize('transform', ['jit', 'remat', 'vmap', 'cond', 'value_and_grad'])
def test_functools_partial_targets(transform):
  """A ``functools.partial`` of a function of a module is a valid transform target."""
  import functools

  target = functools.partial(_scaled, scale=2.0)

  class Use(nn.Module):
    @nn.compact
    def __call__(self, x):
      m = Scaled()
      if transform == 'jit':
        return nn.jit(target)(m, x)
      if transform == 'remat':
        return nn.remat(target)(m, x)
      if transform == 'vmap':
        return nn.vmap(target, variable_axes={'params': None}, split_rngs={'params': False})(m, x)
      if transform == 'cond':
        return nn.cond(True, target, functools.partial(_scaled, scale=3.0), m, x)
      return nn.value_and_grad(lambda m, x, s: jnp.sum(target(m, x)), m, x, 1.0)[0]

  x = jnp.ones((2, 3))
  v = Use().init(jax.random.key(0), x)
  out = Use().apply(v, x)
  kernel = v['params']['Scaled_0']['Dense_0']['kernel']
  if transform != 'jit':  # jit forks its keys; the others initialise like a plain call
    class Plain(nn.Module):
      @nn.compact
      def __call__(self, x):
        return _scaled(Scaled(), x, 2.0)

    plain = Plain().init(jax.random.key(0), x)
    np.testing.assert_array_equal(kernel, plain['params']['Scaled_0']['Dense_0']['kernel'])
  expected = 2.0 * (x @ kernel)
  if transform == 'value_and_grad':
    expected = jnp.sum(expected)
  np.testing.assert_allclose(out, expected, rtol=1e-6)


@pytest.mark.parametrize('transform', ['jit', 'remat', 'vmap'])
def test_functools_partial_of_an_unbound_method(transform):
  import functools

  class Owner(nn.Module):
    def setup(self):
      self.d = nn.Dense(3)

    def scaled(self, x, s):
      return self.d(x) * s

    def __call__(self, x):
      target = functools.partial(type(self).scaled, s=2.0)
      if transform == 'jit':
        return nn.jit(target)(self, x)
      if transform == 'remat':
        return nn.remat(target)(self, x)
      return nn.vmap(target, variable_axes={'params': None}, split_rngs={'params': False})(self, x)

  x = jnp.ones((2, 3))
  v = Owner().init(jax.random.key(0), x)
  np.testing.assert_allclose(Owner().apply(v, x), 2.0 * (x @ v['params']['d']['kernel']),
                             rtol=1e-6)


class HoldAndUse(nn.Module):
  """Holds ``inner`` in a field and is also given it as an argument (aliasing)."""

  inner: nn.Module

  @nn.compact
  def __call__(self, m, x):
    return self.inner(x) + m(x)


@pytest.mark.parametrize('transform', ['plain', 'jit', 'remat', 'vmap'])
def test_module_held_and_passed_is_lifted_once(transform):
  class Alias(nn.Module):
    @nn.compact
    def __call__(self, x):
      d = nn.Dense(3)
      cls = {
        'plain': HoldAndUse,
        'jit': nn.jit(HoldAndUse),
        'remat': nn.remat(HoldAndUse),
        'vmap': nn.vmap(HoldAndUse, variable_axes={'params': None},
                        split_rngs={'params': False}, in_axes=(None, 0)),
      }[transform]
      return cls(d)(d, x)

  x = jnp.arange(6.0).reshape(2, 3)
  v = Alias().init(jax.random.key(0), x)
  assert jax.tree_util.tree_map(jnp.shape, v) == {
    'params': {'Dense_0': {'bias': (3,), 'kernel': (3, 3)}}}
  once = nn.Dense(3).apply({'params': v['params']['Dense_0']}, x)
  np.testing.assert_allclose(Alias().apply(v, x), 2 * once, rtol=1e-6)


def test_module_held_and_passed_in_setup_under_jit():
  class Alias(nn.Module):
    def setup(self):
      self.d = nn.Dense(3)
      self.h = nn.jit(HoldAndUse)(self.d)

    def __call__(self, x):
      return self.h(self.d, x)

  x = jnp.ones((2, 3))
  v = Alias().init(jax.random.key(0), x)
  assert list(v['params']) == ['d']
  once = nn.Dense(3).apply({'params': v['params']['d']}, x)
  np.testing.assert_allclose(Alias().apply(v, x), 2 * once, rtol=1e-6)


def test_vmap_of_a_method_taking_a_python_function_raises_jax_type_error():
  class TakesFn(nn.Module):
    @nn.compact
    def __call__(self, x, fn):
      return fn(nn.Dense(3)(x))

  class Use(nn.Module):
    @nn.compact
    def __call__(self, x):
      mapped = nn.vmap(TakesFn, variable_axes={'params': None}, split_rngs={'params': False})
      return mapped()(x, jnp.tanh)

  with pytest.raises(TypeError, match='is not a valid JAX type'):
    Use().init(jax.random.key(0), jnp.ones((2, 3)))


def test_public_bridge_names_follow_the_reference_signatures():
  from flaxen.core import lift
  from flaxen.linen import transforms

  Vmapped = transforms.lift_transform(lift.vmap, nn.Dense, variable_axes={'params': 0},
                                      split_rngs={'params': True})
  assert Vmapped.__name__ == 'VmapDense'
  v = Vmapped(2).init(jax.random.key(0), jnp.ones((3, 4)))
  assert v['params']['kernel'].shape == (3, 4, 2)

  class Probe(nn.Module):
    inner: nn.Module

    def __call__(self, x):
      scopes, args, kwargs = transforms.get_module_scopes(self, (x,), {})
      assert [s.path for s in scopes] == [('dense',), ('probe',)]
      clone, args2, _ = transforms.set_module_scopes(self, args, kwargs, scopes)
      assert clone is not self and args2[0] is x and clone.inner.scope is scopes[0]
      y, bwd = transforms.lift_direct_transform(lift.vjp, (lambda m, x: m.inner(x),), self, x)
      var_cts, x_ct = bwd(jnp.ones_like(y))
      assert len(var_cts) == 2 and x_ct.shape == x.shape
      return y

  class Outer(nn.Module):
    def setup(self):
      self.dense = nn.Dense(2)
      self.probe = Probe(self.dense)

    def __call__(self, x):
      self.dense(x)
      return self.probe(x)

  Outer().init(jax.random.key(0), jnp.ones((1, 2)))


def test_no_tracer_leaks_through_lifted_transforms(monkeypatch):
  # the bridge's rebinding keeps no reference cycle holding the inner scopes, so nothing
  # traced outlives the trace without the cycle collector (jax.checking_leaks)
  import functools
  import gc

  class Model(nn.Module):
    @nn.compact
    def __call__(self, x):
      x = nn.Sequential([nn.Dense(8)])(x)
      stacked = jnp.stack([x, x])
      vmapped = nn.vmap(nn.Dense, variable_axes={'params': 0}, split_rngs={'params': True})
      x = vmapped(8)(stacked).sum(0)
      return nn.remat(nn.Dense)(4)(nn.jit(nn.Dense)(4)(x))

  model = Model()

  @jax.jit
  @functools.partial(jax.vmap, in_axes=(0, None))
  def sample(key, x):
    variables = model.init(key, jnp.zeros((3, 5)))
    return model.apply(variables, x, capture_intermediates=True, mutable=['intermediates'])[0]

  monkeypatch.setattr(gc, 'collect', lambda *a: 0)
  gc.disable()
  try:
    with jax.checking_leaks():
      for _ in range(3):
        sample(jax.random.split(jax.random.key(23), 4), np.ones((2, 5))).block_until_ready()
  finally:
    gc.enable()


def test_transformed_plain_methods_of_unbound_modules_run_as_jax_transforms():
  # as in the reference: with no scope to lift, remat/vmap of a method that creates no
  # variables just transform it; compact methods still need a bound module
  import functools

  class Plain(nn.Module):
    factor: float = 3.0

    @nn.remat
    def remat_scale(self, x):
      return x * self.factor

    @functools.partial(nn.vmap, in_axes=0, variable_axes={}, split_rngs={})
    def vmap_scale(self, x):
      return x * self.factor

  x = jnp.ones((2, 2))
  np.testing.assert_array_equal(Plain().remat_scale(x), 3 * x)
  np.testing.assert_array_equal(Plain().vmap_scale(x), 3 * x)
  grad = jax.grad(lambda x: Plain().remat_scale(x).sum())(jnp.ones(2))
  np.testing.assert_array_equal(grad, [3.0, 3.0])
  with pytest.raises(errors.CallCompactUnboundModuleError):
    nn.vmap(nn.Dense, variable_axes={'params': 0}, split_rngs={'params': True})(2)(x)
