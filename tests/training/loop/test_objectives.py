"""Named losses and metrics, and the checks of user-given ones."""

import jax.numpy as jnp
import numpy as np
import pytest

from flaxen._src.training.loop import objectives
from flaxen.training.loop import accuracy, mean_squared_error, softmax_cross_entropy


def test_named_losses_bring_their_metrics():
  loss, metrics = objectives.resolve('cross_entropy', None)
  assert loss is softmax_cross_entropy and metrics == (('accuracy', accuracy),)
  assert objectives.resolve('mse', None) == (mean_squared_error, ())
  # explicit metrics replace the defaults, sorted by name
  loss, metrics = objectives.resolve('cross_entropy', {'z': accuracy, 'a': accuracy})
  assert [name for name, _ in metrics] == ['a', 'z']


def test_values_per_example():
  logits = jnp.array([[2.0, 0.0], [0.0, 2.0]])
  labels = jnp.array([0, 0])
  np.testing.assert_allclose(softmax_cross_entropy(logits, labels),
                             [np.log1p(np.exp(-2.0)), np.log1p(np.exp(2.0))], rtol=1e-6)
  assert accuracy(logits, labels).tolist() == [1.0, 0.0]
  assert mean_squared_error(jnp.ones((2, 2, 2)), jnp.zeros((2, 2, 2))).tolist() == [1.0, 1.0]
  assert mean_squared_error(jnp.array([3.0]), jnp.array([1.0])).tolist() == [4.0]


def test_resolve_errors():
  with pytest.raises(ValueError, match="unknown loss 'hinge'"):
    objectives.resolve('hinge', None)
  with pytest.raises(TypeError, match='loss must be a name or a function'):
    objectives.resolve(3, None)
  with pytest.raises(ValueError, match="'loss' is reserved"):
    objectives.resolve('mse', {'loss': accuracy})
  with pytest.raises(TypeError, match="metric 'acc' must be a function"):
    objectives.resolve('mse', {'acc': 1})
