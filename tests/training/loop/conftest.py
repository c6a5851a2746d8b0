"""Shared toy data and models of the training-loop tests (small: compiles stay cheap)."""

import types

import jax
import numpy as np
import pytest

from flaxen import linen as nn


def toy_classes(n=48, seed=0, features=6, classes=3):
  """Separable points: class ``k`` lights feature ``2k`` (plus a little noise)."""
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, classes, n).astype(np.int32)
  x = 0.1 * rng.standard_normal((n, features)).astype(np.float32)
  x[np.arange(n), 2 * labels] += 1.0
  return x, labels


class Tiny(nn.Module):
  """Dense-ReLU-Dense: only ``params``, no keyword arguments."""

  @nn.compact
  def __call__(self, x):
    x = nn.relu(nn.Dense(8)(x))  # Dense_0
    return nn.Dense(3)(x)  # Dense_1


class NormDrop(nn.Module):
  """A user-defined module with BatchNorm (``batch_stats``) and Dropout (``dropout`` RNG)."""

  rate: float = 0.25

  @nn.compact
  def __call__(self, x, train: bool = False):
    x = nn.Dense(8)(x)
    x = nn.BatchNorm(use_running_average=not train, momentum=0.8)(x)
    x = nn.Dropout(self.rate, deterministic=not train)(nn.relu(x))
    return nn.Dense(3)(x)


def leaves_equal(a, b):
  """Bitwise equality of two pytrees' leaves (static fields ignored)."""
  la, lb = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
  return len(la) == len(lb) and all(
    np.asarray(u).dtype == np.asarray(v).dtype and np.array_equal(np.asarray(u), np.asarray(v))
    for u, v in zip(la, lb))


@pytest.fixture
def toy():
  """``(x float32[48, 6], labels int32[48])``, three separable classes."""
  return toy_classes()


@pytest.fixture
def helpers():
  """The toy data maker, the two model classes and ``leaves_equal``."""
  return types.SimpleNamespace(toy_classes=toy_classes, Tiny=Tiny, NormDrop=NormDrop,
                               leaves_equal=leaves_equal)
