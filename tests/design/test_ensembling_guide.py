"""The "Ensembling on multiple devices" guide (seeds L5106-L5398) with flaxen.

The "Ensemble" code cells run unchanged (``flax`` -> ``flaxen``). The guide
omits the CNN and the data ("they can be found in the MNIST example"): a small
CNN and a synthetic MNIST-shaped data set stand in for them.
"""

import functools
import logging

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from flaxen import jax_utils
from flaxen import linen as nn
from flaxen.training import train_state


class CNN(nn.Module):
  @nn.compact
  def __call__(self, x):
    x = nn.Conv(features=4, kernel_size=(3, 3), strides=(2, 2))(x)
    x = nn.relu(x)
    x = nn.avg_pool(x, window_shape=(2, 2), strides=(2, 2))
    x = x.reshape((x.shape[0], -1))
    return nn.Dense(features=10)(x)


@functools.partial(jax.pmap, static_broadcasted_argnums=(1, 2))
def create_train_state(rng, learning_rate, momentum):
  cnn = CNN()
  params = cnn.init(rng, jnp.ones([1, 28, 28, 1]))['params']
  tx = optax.sgd(learning_rate, momentum)
  return train_state.TrainState.create(
      apply_fn=cnn.apply, params=params, tx=tx)


@functools.partial(jax.pmap, axis_name='ensemble')
def apply_model(state, images, labels):
  def loss_fn(params):
    logits = CNN().apply({'params': params}, images)
    one_hot = jax.nn.one_hot(labels, 10)
    loss = optax.softmax_cross_entropy(logits=logits, labels=one_hot).mean()
    return loss, logits

  grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
  (loss, logits), grads = grad_fn(state.params)
  probs = jax.lax.pmean(jax.nn.softmax(logits), axis_name='ensemble')
  accuracy = jnp.mean(jnp.argmax(probs, -1) == labels)
  return grads, loss, accuracy


@jax.pmap
def update_model(state, grads):
  return state.apply_gradients(grads=grads)


def train_epoch(state, train_ds, batch_size, rng):
  train_ds_size = len(train_ds['image'])
  steps_per_epoch = train_ds_size // batch_size

  perms = jax.random.permutation(rng, len(train_ds['image']))
  perms = perms[:steps_per_epoch * batch_size]
  perms = perms.reshape((steps_per_epoch, batch_size))

  epoch_loss = []
  epoch_accuracy = []

  for perm in perms:
    batch_images = jax_utils.replicate(train_ds['image'][perm, ...])
    batch_labels = jax_utils.replicate(train_ds['label'][perm, ...])
    grads, loss, accuracy = apply_model(state, batch_images, batch_labels)
    state = update_model(state, grads)
    epoch_loss.append(jax_utils.unreplicate(loss))
    epoch_accuracy.append(jax_utils.unreplicate(accuracy))
  train_loss = np.mean(epoch_loss)
  train_accuracy = np.mean(epoch_accuracy)
  return state, train_loss, train_accuracy


def get_datasets():
  rng = np.random.default_rng(0)
  labels = rng.integers(0, 10, 96)
  images = rng.normal(size=(96, 28, 28, 1)).astype(np.float32) * 0.1
  images[np.arange(96), labels, labels, 0] += 3.0  # a learnable signal
  train_ds = {'image': images[:64], 'label': labels[:64]}
  test_ds = {'image': images[64:], 'label': labels[64:]}
  return train_ds, test_ds


@pytest.mark.slow
def test_ensemble_training_loop():
  learning_rate, momentum, batch_size, num_epochs = 0.1, 0.9, 32, 3
  train_ds, test_ds = get_datasets()
  test_ds = jax_utils.replicate(test_ds)
  rng = jax.random.PRNGKey(0)

  rng, init_rng = jax.random.split(rng)
  state = create_train_state(jax.random.split(init_rng, jax.device_count()),
                             learning_rate, momentum)
  kernels = np.asarray(state.params['Dense_0']['kernel'])
  assert kernels.shape[0] == jax.device_count()
  assert not np.allclose(kernels[0], kernels[1])  # one differently initialised model per device

  losses = []
  for epoch in range(1, num_epochs + 1):
    rng, input_rng = jax.random.split(rng)
    state, train_loss, train_accuracy = train_epoch(
        state, train_ds, batch_size, input_rng)
    _, test_loss, test_accuracy = jax_utils.unreplicate(
        apply_model(state, test_ds['image'], test_ds['label']))
    logging.info(
        'epoch:% 3d, train_loss: %.4f, train_accuracy: %.2f, '  # noqa: UP031 (verbatim)
        'test_loss: %.4f, test_accuracy: %.2f'
        % (epoch, train_loss, train_accuracy * 100, test_loss,
           test_accuracy * 100))
    losses.append(float(train_loss))
    assert np.isfinite(test_loss) and 0.0 <= float(test_accuracy) <= 1.0
  assert int(jax_utils.unreplicate(state.step)) == num_epochs * 2
  assert losses[-1] < losses[0]
  # the ensemble prediction (pmean of probabilities) is the same on every device
  _, loss, acc = apply_model(state, test_ds['image'], test_ds['label'])
  assert len(set(np.asarray(acc).tolist())) == 1
  assert len(set(np.round(np.asarray(loss), 6).tolist())) > 1
