"""The learning-rate scheduling guide (seeds L3391-L3590) with flaxen.

The "Learning rate schedule" cells run unchanged (``flax`` -> ``flaxen``); the
guide leaves out ``CNN``, ``compute_metrics``, ``config`` and the data, which a
small CNN, the quickstart's metrics and a synthetic MNIST-shaped set stand in
for. The learning rate logged by ``train_step`` must follow warmup then cosine.
"""

import functools
import logging
import types

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from flaxen import linen as nn
from flaxen.training import lr_schedule, train_state


class CNN(nn.Module):
  @nn.compact
  def __call__(self, x):
    x = nn.Conv(features=4, kernel_size=(3, 3), strides=(2, 2))(x)
    x = nn.relu(x)
    x = x.reshape((x.shape[0], -1))
    return nn.Dense(features=10)(x)


def compute_metrics(logits, labels):
  loss = jnp.mean(optax.softmax_cross_entropy(logits, jax.nn.one_hot(labels, 10)))
  accuracy = jnp.mean(jnp.argmax(logits, -1) == labels)
  return {'loss': loss, 'accuracy': accuracy}


def create_learning_rate_fn(config, base_learning_rate, steps_per_epoch):
  """Creates learning rate schedule."""
  warmup_fn = optax.linear_schedule(
      init_value=0., end_value=base_learning_rate,
      transition_steps=config.warmup_epochs * steps_per_epoch)
  cosine_epochs = max(config.num_epochs - config.warmup_epochs, 1)
  cosine_fn = optax.cosine_decay_schedule(
      init_value=base_learning_rate,
      decay_steps=cosine_epochs * steps_per_epoch)
  schedule_fn = optax.join_schedules(
      schedules=[warmup_fn, cosine_fn],
      boundaries=[config.warmup_epochs * steps_per_epoch])
  return schedule_fn


@functools.partial(jax.jit, static_argnums=2)
def train_step(state, batch, learning_rate_fn):
  def loss_fn(params):
    logits = CNN().apply({'params': params}, batch['image'])
    one_hot = jax.nn.one_hot(batch['label'], 10)
    loss = jnp.mean(optax.softmax_cross_entropy(logits, one_hot))
    return loss, logits
  grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
  (_, logits), grads = grad_fn(state.params)
  new_state = state.apply_gradients(grads=grads)
  metrics = compute_metrics(logits, batch['label'])
  lr = learning_rate_fn(state.step)
  metrics['learning_rate'] = lr
  return new_state, metrics


def train_epoch(state, train_ds, batch_size, epoch, learning_rate_fn, rng):
  """Trains for a single epoch."""
  train_ds_size = len(train_ds['image'])
  steps_per_epoch = train_ds_size // batch_size
  perms = jax.random.permutation(rng, len(train_ds['image']))
  perms = perms[:steps_per_epoch * batch_size]
  perms = perms.reshape((steps_per_epoch, batch_size))
  batch_metrics = []
  for perm in perms:
    batch = {k: v[perm, ...] for k, v in train_ds.items()}
    state, metrics = train_step(state, batch, learning_rate_fn)
    batch_metrics.append(metrics)

  # compute mean of metrics across each batch in epoch.
  batch_metrics = jax.device_get(batch_metrics)
  epoch_metrics = {
      k: np.mean([metrics[k] for metrics in batch_metrics])
      for k in batch_metrics[0]}

  logging.info('train epoch: %d, loss: %.4f, accuracy: %.2f', epoch,
               epoch_metrics['loss'], epoch_metrics['accuracy'] * 100)

  return state, epoch_metrics, batch_metrics


def create_train_state(rng, config, learning_rate_fn):
  """Creates initial `TrainState`."""
  cnn = CNN()
  params = cnn.init(rng, jnp.ones([1, 28, 28, 1]))['params']
  tx = optax.sgd(learning_rate_fn, config.momentum)
  return train_state.TrainState.create(
      apply_fn=cnn.apply, params=params, tx=tx)


@pytest.mark.slow
def test_warmup_cosine_schedule_drives_training():
  config = types.SimpleNamespace(warmup_epochs=1, num_epochs=3, momentum=0.9)
  rng = np.random.default_rng(0)
  train_ds = {'image': rng.normal(size=(64, 28, 28, 1)).astype(np.float32),
              'label': rng.integers(0, 10, 64)}
  batch_size = 16
  steps_per_epoch = 64 // batch_size
  learning_rate_fn = create_learning_rate_fn(config, 0.1, steps_per_epoch)
  state = create_train_state(jax.random.PRNGKey(0), config, learning_rate_fn)
  lrs = []
  key = jax.random.PRNGKey(1)
  for epoch in range(1, config.num_epochs + 1):
    key, input_rng = jax.random.split(key)
    state, epoch_metrics, batch_metrics = train_epoch(
        state, train_ds, batch_size, epoch, learning_rate_fn, input_rng)
    lrs += [float(m['learning_rate']) for m in batch_metrics]
    assert np.isfinite(epoch_metrics['loss'])
  assert int(state.step) == config.num_epochs * steps_per_epoch
  warmup = [0.1 * s / steps_per_epoch for s in range(steps_per_epoch)]
  np.testing.assert_allclose(lrs[:steps_per_epoch], warmup, rtol=1e-5, atol=1e-7)
  np.testing.assert_allclose(lrs[steps_per_epoch], 0.1, rtol=1e-5)
  assert all(a > b for a, b in zip(lrs[steps_per_epoch:], lrs[steps_per_epoch + 1:]))


def test_legacy_cosine_schedule_matches_optax_without_warmup():
  legacy = lr_schedule.create_cosine_learning_rate_schedule(0.1, 10, halfcos_epochs=3)
  ref = optax.cosine_decay_schedule(init_value=0.1, decay_steps=30)
  for step in (0, 5, 15, 29, 30):
    np.testing.assert_allclose(legacy(step), ref(step), rtol=1e-5, atol=1e-7)
