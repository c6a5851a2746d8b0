"""nn.vjp / nn.jvp / nn.grad / nn.value_and_grad / nn.custom_vjp."""

import jax
import jax.numpy as jnp
import numpy as np

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
