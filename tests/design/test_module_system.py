"""Whole models exercising the Module system end to end (issue 3's design tests).

* an auto-encoder with two extra methods (``encode``/``decode``) used through
  ``apply(method=...)``, ``bind`` and ``unbind``, trained a few steps;
* submodules shared by reference (in a compact method and across setup siblings);
* lists and dicts of submodules assigned in setup;
* dropout-style RNG streams (a ``dropout`` stream, different per step, absent at eval);
* a batch-stats-style mutable collection updated during training steps.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from flaxen import errors
from flaxen import linen as nn


class Encoder(nn.Module):
  latent: int

  @nn.compact
  def __call__(self, x):
    return nn.Dense(self.latent)(nn.relu(nn.Dense(8)(x)))


class Decoder(nn.Module):
  out: int

  @nn.compact
  def __call__(self, z):
    return nn.Dense(self.out)(nn.relu(nn.Dense(8)(z)))


class AutoEncoder(nn.Module):
  latent: int = 2
  out: int = 6

  def setup(self):
    self.encoder = Encoder(self.latent)
    self.decoder = Decoder(self.out)

  def __call__(self, x):
    return self.decode(self.encode(x))

  def encode(self, x):
    return self.encoder(x)

  def decode(self, z):
    return self.decoder(z)


def test_autoencoder_methods_bind_unbind_and_training():
  x = jax.random.normal(jax.random.PRNGKey(1), (16, 6))
  model = AutoEncoder()
  variables = model.init(jax.random.PRNGKey(0), x)
  assert list(variables["params"]) == ["encoder", "decoder"]
  # Dense_0 (the outer call) is constructed first but called second:
  assert list(variables["params"]["encoder"]) == ["Dense_1", "Dense_0"]

  z = model.apply(variables, x, method="encode")
  assert z.shape == (16, 2)
  np.testing.assert_allclose(model.apply(variables, z, method=AutoEncoder.decode),
                             model.apply(variables, x), rtol=1e-6)

  bound = model.bind(variables)
  enc, enc_vars = bound.encoder.unbind()
  np.testing.assert_allclose(enc.apply(enc_vars, x), z, rtol=1e-6)

  tx = optax.adam(1e-2)
  params = variables["params"]
  opt_state = tx.init(params)

  @jax.jit
  def step(params, opt_state):
    loss, grads = jax.value_and_grad(
      lambda p: jnp.mean((model.apply({"params": p}, x) - x) ** 2)
    )(params)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), opt_state, loss

  losses = []
  for _ in range(30):
    params, opt_state, loss = step(params, opt_state)
    losses.append(float(loss))
  assert losses[-1] < losses[0]


class SharedInCompact(nn.Module):
  @nn.compact
  def __call__(self, x):
    dense = nn.Dense(x.shape[-1], name="shared")
    return dense(nn.relu(dense(x)))


class Tower(nn.Module):
  body: nn.Module
  out: int

  @nn.compact
  def __call__(self, x):
    return nn.Dense(self.out)(self.body(x))


class TwoTowers(nn.Module):
  def setup(self):
    self.trunk = nn.Dense(4)
    self.left = Tower(self.trunk, 2)
    self.right = Tower(self.trunk, 3)

  def __call__(self, x):
    return self.left(x), self.right(x)


def test_shared_submodules_have_one_set_of_params():
  x = jnp.ones((2, 3))
  v = SharedInCompact().init(jax.random.PRNGKey(0), x)
  assert list(v["params"]) == ["shared"]
  v = TwoTowers().init(jax.random.PRNGKey(0), x)
  assert list(v["params"]) == ["trunk", "left", "right"]
  assert list(v["params"]["left"]) == ["Dense_0"]
  # the gradient of the shared trunk collects contributions from both towers
  grads = jax.grad(lambda p: sum(o.sum() for o in TwoTowers().apply({"params": p}, x)))(
    v["params"]
  )
  left_only = jax.grad(lambda p: TwoTowers().apply({"params": p}, x)[0].sum())(v["params"])
  assert not np.allclose(grads["trunk"]["kernel"], left_only["trunk"]["kernel"])


class Stack(nn.Module):
  widths: tuple = (4, 4, 3)

  def setup(self):
    self.layers = [nn.Dense(w) for w in self.widths]
    self.heads = {"mean": nn.Dense(1), "logvar": nn.Dense(1)}

  def __call__(self, x):
    for layer in self.layers:
      x = nn.relu(layer(x))
    return {k: h(x) for k, h in self.heads.items()}


class StackExplicit(nn.Module):
  widths: tuple = (4, 4, 3)

  @nn.compact
  def __call__(self, x):
    for i, w in enumerate(self.widths):
      x = nn.relu(nn.Dense(w, name=f"layers_{i}")(x))
    return {k: nn.Dense(1, name=f"heads_{k}")(x) for k in ("mean", "logvar")}


def test_setup_lists_match_explicit_names_bit_for_bit():
  x = jnp.ones((2, 5))
  a = Stack().init(jax.random.PRNGKey(3), x)
  b = StackExplicit().init(jax.random.PRNGKey(3), x)
  assert list(a["params"]) == ["layers_0", "layers_1", "layers_2", "heads_mean", "heads_logvar"]
  for k in a["params"]:
    np.testing.assert_array_equal(a["params"][k]["kernel"], b["params"][k]["kernel"])


class NoisyNet(nn.Module):
  rate: float = 0.5

  @nn.compact
  def __call__(self, x, train: bool):
    x = nn.Dense(8)(x)
    if train:
      keep = jax.random.bernoulli(self.make_rng("dropout"), 1 - self.rate, x.shape)
      x = jnp.where(keep, x / (1 - self.rate), 0)
    return nn.Dense(2)(x)


def test_dropout_style_rng_stream():
  x = jnp.ones((4, 3))
  v = NoisyNet().init(jax.random.PRNGKey(0), x, train=False)
  eval_out = NoisyNet().apply(v, x, train=False)
  a = NoisyNet().apply(v, x, train=True, rngs={"dropout": jax.random.PRNGKey(1)})
  b = NoisyNet().apply(v, x, train=True, rngs={"dropout": jax.random.PRNGKey(1)})
  c = NoisyNet().apply(v, x, train=True, rngs={"dropout": jax.random.PRNGKey(2)})
  np.testing.assert_array_equal(a, b)
  assert not np.allclose(a, c) and not np.allclose(a, eval_out)
  with pytest.raises(errors.InvalidRngError):
    NoisyNet().apply(v, x, train=True)


class RunningMean(nn.Module):
  momentum: float = 0.9

  @nn.compact
  def __call__(self, x, train: bool):
    ra = self.variable("batch_stats", "mean", lambda s: jnp.zeros(s), x.shape[1:])
    if train and not self.is_initializing():
      ra.value = self.momentum * ra.value + (1 - self.momentum) * x.mean(0)
    mean = x.mean(0) if train else ra.value
    return nn.Dense(2)(x - mean[None])


def test_batch_stats_style_mutable_collection():
  x = jnp.ones((4, 3)) * 2.0
  model = RunningMean()
  v = model.init(jax.random.PRNGKey(0), x, train=True)
  assert list(v) == ["batch_stats", "params"]
  params, stats = v["params"], v["batch_stats"]
  tx = optax.sgd(0.1)
  opt_state = tx.init(params)

  @jax.jit
  def step(params, stats, opt_state):
    def loss_fn(p):
      y, mutated = model.apply({"params": p, "batch_stats": stats}, x, train=True,
                               mutable=["batch_stats"])
      return jnp.sum(y**2), mutated["batch_stats"]

    (loss, stats), grads = jax.value_and_grad(loss_fn, has_aux=True)(params)
    updates, opt_state = tx.update(grads, opt_state)
    return optax.apply_updates(params, updates), stats, opt_state

  for _ in range(3):
    params, stats, opt_state = step(params, stats, opt_state)
  np.testing.assert_allclose(stats["mean"], 2.0 * (1 - 0.9**3) * jnp.ones(3), rtol=1e-6)
  with pytest.raises(errors.ModifyScopeVariableError):
    model.apply({"params": params, "batch_stats": stats}, x, train=True)
  model.apply({"params": params, "batch_stats": stats}, x, train=False)
