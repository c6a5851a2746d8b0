"""The "Flax Basics" linear regression, run through flaxen.

``python -m flaxen.examples.linear_regression [--steps N] [--lr LR]`` fits a
``nn.Dense(5)`` to noisy samples of a random linear map with plain gradient
descent (the seeds' guide, first part) and prints the loss curve. The data is
generated from a fixed PRNG key, so the run is reproducible.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
from jax import random

from flaxen import linen as nn
from flaxen.core import freeze


def make_data(n_samples: int = 20, x_dim: int = 10, y_dim: int = 5):
  """Ground truth ``(W, b)`` and noisy samples, exactly as the guide builds them."""
  k1, k2 = random.split(random.PRNGKey(0))
  w = random.normal(k1, (x_dim, y_dim))
  b = random.normal(k2, (y_dim,))
  key_sample, key_noise = random.split(k1)
  x = random.normal(key_sample, (n_samples, x_dim))
  y = jnp.dot(x, w) + b + 0.1 * random.normal(key_noise, (n_samples, y_dim))
  return freeze({"params": {"bias": b, "kernel": w}}), x, y


def train(steps: int = 101, learning_rate: float = 0.3, every: int = 10):
  """Fits the model; returns the list of ``(step, loss)`` printed along the way."""
  model = nn.Dense(features=5)
  true_params, x_samples, y_samples = make_data()
  _, key2 = random.split(random.PRNGKey(0))
  params = model.init(key2, x_samples[0])

  @jax.jit
  def mse(params, x_batched, y_batched):
    def squared_error(x, y):
      pred = model.apply(params, x)
      return jnp.inner(y - pred, y - pred) / 2.0

    return jnp.mean(jax.vmap(squared_error)(x_batched, y_batched), axis=0)

  @jax.jit
  def update(params, grads):
    return jax.tree_util.tree_map(lambda p, g: p - learning_rate * g, params, grads)

  print('Loss for "true" W,b: ', mse(true_params, x_samples, y_samples))
  loss_grad_fn = jax.value_and_grad(mse)
  curve = []
  for i in range(steps):
    loss_val, grads = loss_grad_fn(params, x_samples, y_samples)
    params = update(params, grads)
    if i % every == 0:
      curve.append((i, float(loss_val)))
      print(f"Loss step {i}: ", loss_val)
  return curve


def main(argv=None) -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--steps", type=int, default=101)
  parser.add_argument("--lr", type=float, default=0.3)
  args = parser.parse_args(argv)
  curve = train(args.steps, args.lr)
  first, last = curve[0][1], curve[-1][1]
  print(f"loss went from {first:.6g} to {last:.6g} in {args.steps} steps")


if __name__ == "__main__":
  main()
