"""nn.vjp / nn.jvp / nn.grad / nn.value_and_grad / nn.custom_vjp."""

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn


class LearnScale(nn.Module):
  @nn.compact
  def __call__(self, x, y):
    p = self.param('scale', nn.initializers.constant(2.0), ())
    return p * x * y


def test_vjp_docs_example():
  class Foo(nn.Module):
    @nn.compact
    def __call__(self, x, y):
      z, bwd = nn.vjp(lambda mdl, x, y: mdl(x, y), LearnScale(), x, y)
      params_grad, x_grad, y_grad = bwd(jnp.ones(z.shape))
      return z, params_grad, x_grad, y_grad

  x, y = jnp.ones(2), jnp.arange(2.0)
  v = Foo().init(jax.random.PRNGKey(0), x, y)
  z, pg, xg, yg = Foo().apply(v, x, y)
  np.testing.assert_allclose(pg['params']['scale'], (x * y).sum())
  np.testing.assert_allclose(xg, 2.0 * y)
  np.testing.assert_allclose(yg, 2.0 * x)


def test_grad_and_value_and_grad():
  class G(nn.Module):
    @nn.compact
    def __call__(self, x, y):
      f = lambda mdl, x, y: mdl(x, y).sum()
      grads = nn.grad(f, LearnScale(), x, y)
      value, grads2 = nn.value_and_grad(f, LearnScale(name='other'), x, y)
      return grads, value, grads2

  x, y = jnp.ones(2), jnp.arange(2.0)
  v = G().init(jax.random.PRNGKey(0), x, y)
  (gx, gy), value, (gx2, _) = G().apply(v, x, y)
  np.testing.assert_allclose(gx, 2.0 * y)
  np.testing.assert_allclose(gx2, gx)
  np.testing.assert_allclose(value, 2.0 * (x * y).sum())


def test_jvp_docs_example():
  class Scale(nn.Module):
    @nn.compact
    def __call__(self, x):
      return self.param('test', nn.initializers.constant(3.0), ()) * x

  class Foo(nn.Module):
    @nn.compact
    def __call__(self, x):
      scale = Scale()
      vars_t = jax.tree_util.tree_map(jnp.ones_like, scale.variables.get('params', {}))
      _, out_t = nn.jvp(lambda mdl, x: mdl(x), scale, (x,), (jnp.zeros_like(x),),
                        variable_tangents={'params': vars_t})
      return out_t

  x = jnp.arange(3.0)
  v = Foo().init(jax.random.PRNGKey(0), x)
  np.testing.assert_allclose(Foo().apply(v, x), x)


def test_custom_vjp_sign_gradient_docs_example():
  class Foo(nn.Module):
    @nn.compact
    def __call__(self, x):
      def f(mdl, x):
        return mdl(x)

      def fwd(mdl, x):
        return nn.vjp(f, mdl, x)

      def bwd(vjp_fn, y_t):
        params_t, *inputs_t = vjp_fn(y_t)
        params_t = jax.tree_util.tree_map(jnp.sign, params_t)
        return (params_t, *inputs_t)

      sign_grad = nn.custom_vjp(f, forward_fn=fwd, backward_fn=bwd)
      return sign_grad(nn.Dense(1), x).reshape(())

  x = jnp.array([1.5, -2.0])
  variables = Foo().init(jax.random.PRNGKey(0), x)
  grad = jax.grad(Foo().apply)(variables, x)
  for leaf in jax.tree_util.tree_leaves(grad):
    assert set(np.unique(np.asarray(leaf))) <= {-1.0, 0.0, 1.0}
  np.testing.assert_array_equal(grad['params']['Dense_0']['kernel'], jnp.sign(x)[:, None])


class Holder(nn.Module):
  """Holds a bound module in a field: a transform of it lifts two scopes."""

  inner: nn.Module

  def __call__(self, x):
    return self.inner(x)


class HolderParent(nn.Module):
  mode: str

  def setup(self):
    self.dense = nn.Dense(3)
    self.holder = Holder(self.dense)

  def __call__(self, x):
    self.dense(x)
    f = lambda mdl, x: jnp.sum(mdl(x) ** 2)  # noqa: E731
    if self.mode == 'value_and_grad':
      return nn.value_and_grad(f, self.holder, x)
    if self.mode == 'aux':
      return nn.value_and_grad(lambda m, x: (f(m, x), 7), self.holder, x, has_aux=True)
    if self.mode == 'vjp_multi':
      out, bwd = nn.vjp(lambda mdl, x: mdl(x), self.holder, x, multi_scope=True)
      return out, bwd(jnp.ones_like(out))
    out, _ = nn.vjp(lambda mdl, x: mdl(x), self.holder, x)
    return out


def _plain_dense(variables, x):
  return nn.Dense(3).apply({'params': variables['params']['dense']}, x)


def test_value_and_grad_over_a_module_holding_bound_modules():
  x = jnp.arange(6.0).reshape(2, 3)
  v = HolderParent('value_and_grad').init(jax.random.key(0), x)
  value, (gx,) = HolderParent('value_and_grad').apply(v, x)
  want, want_gx = jax.value_and_grad(lambda x: jnp.sum(_plain_dense(v, x) ** 2))(x)
  np.testing.assert_allclose(value, want, rtol=1e-6)
  np.testing.assert_allclose(gx, want_gx, rtol=1e-6)
  (value2, aux), (gx2,) = HolderParent('aux').apply(v, x)
  assert aux == 7
  np.testing.assert_allclose(value2, want, rtol=1e-6)
  np.testing.assert_allclose(gx2, want_gx, rtol=1e-6)


def test_vjp_multi_scope_gives_one_cotangent_per_scope():
  x = jnp.arange(6.0).reshape(2, 3)
  v = HolderParent('vjp_multi').init(jax.random.key(0), x)
  out, (var_cts, x_ct) = HolderParent('vjp_multi').apply(v, x)
  assert isinstance(var_cts, list) and len(var_cts) == 2  # the held Dense, then the Holder
  assert var_cts[1] == {}
  _, bwd = jax.vjp(lambda p, x: nn.Dense(3).apply({'params': p}, x), v['params']['dense'], x)
  want_p, want_x = bwd(jnp.ones_like(out))
  np.testing.assert_allclose(var_cts[0]['params']['kernel'], want_p['kernel'], rtol=1e-6)
  np.testing.assert_allclose(x_ct, want_x, rtol=1e-6)


def test_single_scope_transforms_refuse_several_scopes_with_the_reference_message():
  x = jnp.ones((2, 3))
  with pytest.raises(NotImplementedError, match='does not yet support Modules that include other'):
    HolderParent('vjp').init(jax.random.key(0), x)


def test_value_and_grad_needs_a_scalar_output():
  class NonScalar(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.value_and_grad(lambda m, x: m(x), nn.Dense(3), x)

  with pytest.raises(ValueError, match=re.escape(
      'grad can only work on functions with scalar-valued outputs. out shape=(2, 3)')):
    NonScalar().init(jax.random.key(0), jnp.ones((2, 3)))


def test_grad_with_aux_returns_grads_then_aux():
  class G(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.grad(lambda m, x: (jnp.sum(m(x)), 5), nn.Dense(2), x, has_aux=True)

  (gx,), aux = G().init_with_output(jax.random.key(0), jnp.ones((1, 3)))[0]
  assert gx.shape == (1, 3) and aux == 5


def test_direct_transform_of_a_module_class_raises_the_reference_value_error():
  class C(nn.Module):
    @nn.compact
    def __call__(self, x):
      return nn.cond(True, nn.Dense, nn.Dense, self, x)

  with pytest.raises(ValueError, match='can only be applied on a Module method'):
    C().init(jax.random.key(0), jnp.ones((1, 2)))
