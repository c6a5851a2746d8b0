"""The jitted train/eval steps, weights, ``evaluate`` and the learning-rate probe."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from flaxen import linen as nn
from flaxen._src.training.loop import steps
from flaxen.training.loop import ArrayBatches, evaluate, fit, mean_squared_error
from flaxen.training.train_state import TrainState


def test_mode_kwargs_follow_the_call_signature(helpers):
  assert steps.mode_kwargs(helpers.NormDrop()) == ({'train': True}, {'train': False})
  assert steps.mode_kwargs(helpers.Tiny()) == ({}, {})

  class Det(nn.Module):
    @nn.compact
    def __call__(self, x, deterministic: bool = True):
      return nn.Dropout(0.5, deterministic=deterministic)(x)

  assert steps.mode_kwargs(Det()) == ({'deterministic': False}, {'deterministic': True})


def test_frozen_kwargs_must_be_hashable():
  assert steps.frozen_kwargs({'b': 1, 'a': 2}, 'x') == (('a', 2), ('b', 1))
  with pytest.raises(TypeError, match='train_kwargs values must be hashable'):
    steps.frozen_kwargs({'a': [1]}, 'train_kwargs')


def test_weights_make_padding_rows_irrelevant(helpers, toy):
  x, y = toy
  model = helpers.Tiny()
  state = fit(model, optax.sgd(0.1), [(x[:8], y[:8])], epochs=0).state
  spec = steps.StepSpec(loss=steps.objectives.softmax_cross_entropy)
  junk = np.concatenate([x[:6], 100 * np.ones((2, 6), np.float32)])
  weights = np.array([1, 1, 1, 1, 1, 1, 0, 0], np.float32)
  a, ma = steps.train_step(spec, state, (x[:6], y[:6]))
  b, mb = steps.train_step(spec, state, (junk, y[:8], weights))
  assert float(ma['loss']) == pytest.approx(float(mb['loss']), rel=1e-6)
  assert float(mb['count']) == 6.0 and bool(mb['finite'])
  for u, v in zip(jax.tree_util.tree_leaves(a.params), jax.tree_util.tree_leaves(b.params)):
    np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-7)


def test_evaluate_counts_every_example_once(helpers, toy):
  x, y = toy
  state = fit(helpers.Tiny(), optax.adam(0.05), ArrayBatches(x, y, 16), epochs=2).state
  p = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), state.params)
  hidden = np.maximum(x @ p['Dense_0']['kernel'] + p['Dense_0']['bias'], 0)
  logits = hidden @ p['Dense_1']['kernel'] + p['Dense_1']['bias']
  log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
  expected_loss = float(-np.mean(log_probs[np.arange(len(y)), y]))
  expected_acc = float(np.mean(np.argmax(logits, -1) == y))
  for batch_size in (7, 500):  # six full batches and a padded one; one padded batch
    result = evaluate(state, ArrayBatches(x, y, batch_size, shuffle=False))
    assert result['accuracy'] == pytest.approx(expected_acc)
    assert result['loss'] == pytest.approx(expected_loss, rel=1e-4)


def test_evaluate_a_plain_train_state_and_other_losses(helpers, toy):
  x, _ = toy
  model = helpers.Tiny()
  params = model.init(jax.random.PRNGKey(0), x)['params']
  state = TrainState.create(apply_fn=model.apply, params=params, tx=optax.sgd(0.1))
  targets = np.zeros((len(x), 3), np.float32)
  out = evaluate(state, [(x, targets)], loss='mse')
  expected = np.mean(np.asarray(model.apply({'params': params}, x)) ** 2)
  assert set(out) == {'loss'} and out['loss'] == pytest.approx(float(expected), rel=1e-5)
  out = evaluate(state, [(x, targets)], loss=mean_squared_error,
                 metrics={'max': lambda o, t: jnp.max(jnp.abs(o - t), axis=-1)})
  assert set(out) == {'loss', 'max'}


def test_step_function_shape_errors(helpers, toy):
  x, y = toy
  state = fit(helpers.Tiny(), optax.sgd(0.1), [(x, y)], epochs=0).state
  spec = steps.StepSpec(loss=lambda o, t: jnp.zeros((2, 2)))
  with pytest.raises(ValueError, match=r'one value per example \(shape \[batch\]\)'):
    steps.train_step(spec, state, (x, y))
  scalar = steps.StepSpec(loss=lambda o, t: jnp.float32(1.0))
  with pytest.raises(ValueError, match='returned a scalar, but the batch has weights'):
    steps.train_step(scalar, state, (x, y, np.ones(len(y), np.float32)))


def test_learning_rate_found_in_injected_hyperparams():
  params = {'w': jnp.ones(2)}
  tx = optax.chain(optax.clip(1.0), optax.inject_hyperparams(optax.sgd)(learning_rate=0.25))
  assert float(steps.learning_rate(tx.init(params))) == 0.25
  assert steps.learning_rate(optax.sgd(0.1).init(params)) is None
