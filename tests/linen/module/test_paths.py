"""Module.module_paths: the modules an init call touches, by path."""

import jax
import jax.numpy as jnp

from flaxen import linen as nn


class Leaf(nn.Module):
  features: int = 2

  @nn.compact
  def __call__(self, x):
    return x @ self.param("w", jax.nn.initializers.ones, (x.shape[-1], self.features))


class Tree(nn.Module):
  @nn.compact
  def __call__(self, x):
    return Leaf(3)(Leaf(4, name="first")(x))


def test_module_paths():
  paths = Tree().module_paths(jax.random.PRNGKey(0), jnp.ones((1, 2)))
  assert list(paths) == ["", "first", "Leaf_0"]
  assert paths["first"].features == 4 and paths["first"].scope is None
  assert type(paths[""]) is Tree
