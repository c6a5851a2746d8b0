"""BatchApply and the helpers of ``flaxen.linen.batch_apply`` (the reference's module path)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn
from flaxen.linen import batch_apply

KEY = jax.random.PRNGKey(0)


def test_public_path_and_identity():
  assert nn.BatchApply is batch_apply.BatchApply
  assert nn.batch_apply is batch_apply
  assert batch_apply.BatchApply.__module__ == 'flaxen.linen.batch_apply'


def test_batch_apply_merges_and_splits():
  calls = []

  def f(x, w):
    calls.append(x.shape)
    return x @ w

  x = jnp.ones((2, 3, 4))
  w = jnp.ones((4,))
  out = nn.BatchApply(f)(x, w)
  assert calls == [(6, 4)] and out.shape == (2, 3)


def test_each_input_merges_its_own_leading_axes():
  # the reference does not require the inputs to share leading axes; the output is split
  # with the first mergeable input's
  out = nn.BatchApply(lambda x, y: x + y.sum())(jnp.ones((2, 3, 4)), jnp.ones((5, 6, 7)))
  assert out.shape == (2, 3, 4)
  np.testing.assert_array_equal(out, np.full((2, 3, 4), 211.0))
  out = nn.BatchApply(lambda x=None: x * 2)(x=jnp.ones((2, 3, 4)))
  assert out.shape == (2, 3, 4)


def test_errors_are_the_references():
  with pytest.raises(ValueError, match='^BatchApply requires at least one input with ndim >= 2.$'):
    nn.BatchApply(lambda x: x)(jnp.ones((2,)))
  with pytest.raises(ValueError, match='ndim >= 2'):
    nn.BatchApply(lambda x: x)([[1.0, 2.0], [3.0, 4.0]])  # a list is a tree of scalars
  with pytest.raises(AttributeError, match="'float' object has no attribute 'shape'"):
    nn.BatchApply(lambda x: (x, 3.0))(jnp.ones((2, 3, 4)))


def test_attributes():
  b = nn.BatchApply(len, 3)
  assert b.num_dims == 3 and b._f is len


def test_helpers():
  assert batch_apply.ndim_at_least(jnp.ones((2, 3)), 2)
  assert not batch_apply.ndim_at_least(3.0, 1)
  assert batch_apply.ndim_at_least([[1.0]], 2)
  leaf = jnp.ones((4, 5))
  assert batch_apply.arbitrary_mergeable_leaf(2, (jnp.ones(3),), {'a': leaf}) is leaf
  assert batch_apply.arbitrary_mergeable_leaf(3, (jnp.ones(3),), {'a': leaf}) is None
  assert batch_apply.merge_leading_dims(jnp.ones((2, 3, 4)), 2).shape == (6, 4)
  small = jnp.ones(3)
  assert batch_apply.merge_leading_dims(small, 2) is small
  assert batch_apply.split_leading_dim(jnp.ones((6, 4)), (2, 3)).shape == (2, 3, 4)


def test_batch_apply_with_module():
  dense = nn.Dense(3)
  x = jnp.ones((2, 5, 4))
  variables = dense.init(KEY, x[0])
  y = nn.BatchApply(lambda v: dense.apply(variables, v))(x)
  np.testing.assert_allclose(y, dense.apply(variables, x), rtol=1e-6)
