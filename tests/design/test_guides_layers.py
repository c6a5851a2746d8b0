"""The layer code of the seed docs, run unchanged with ``nn`` bound to ``flaxen.linen``.

* Quickstart MNIST CNN (docs L153–L810): ``CNN``, ``create_train_state`` and the
  jitted ``train_step`` / metric step, on a small synthetic batch (no TFDS/CLU:
  the CLU ``Metrics`` collection is replaced by plain loss/accuracy numbers).
* BatchNorm guide (L2499–L2927): ``MLP(train)``, the ``batch_stats`` collection,
  ``apply(..., mutable=['batch_stats'])`` and a ``TrainState`` with ``batch_stats``.
* Dropout guide (L2928–L3390): ``MyModel(training)``, the ``'dropout'`` stream,
  a ``TrainState`` with a ``key`` and ``fold_in(key, state.step)``.

Only two lines differ from the docs, both outside the layer code: the imports
(``from flaxen import linen as nn`` / ``flaxen.training``) and the Dropout
guide's ``key: jax.random.KeyArray`` annotation, which no longer exists in JAX
(``jax.Array`` is its replacement).
"""

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from flaxen import linen as nn
from flaxen.training import train_state


# ----------------------------------------------------------------- quickstart CNN
class CNN(nn.Module):
  """A simple CNN model."""

  @nn.compact
  def __call__(self, x):
    x = nn.Conv(features=32, kernel_size=(3, 3))(x)
    x = nn.relu(x)
    x = nn.avg_pool(x, window_shape=(2, 2), strides=(2, 2))
    x = nn.Conv(features=64, kernel_size=(3, 3))(x)
    x = nn.relu(x)
    x = nn.avg_pool(x, window_shape=(2, 2), strides=(2, 2))
    x = x.reshape((x.shape[0], -1))  # flatten
    x = nn.Dense(features=256)(x)
    x = nn.relu(x)
    x = nn.Dense(features=10)(x)
    return x


def create_train_state(module, rng, learning_rate, momentum):
  """Creates an initial `TrainState`."""
  params = module.init(rng, jnp.ones([1, 28, 28, 1]))['params']  # initialize parameters
  tx = optax.sgd(learning_rate, momentum)
  return train_state.TrainState.create(apply_fn=module.apply, params=params, tx=tx)


@jax.jit
def cnn_train_step(state, batch):
  """Train for a single step."""

  def loss_fn(params):
    logits = state.apply_fn({'params': params}, batch['image'])
    loss = optax.softmax_cross_entropy_with_integer_labels(
      logits=logits, labels=batch['label']).mean()
    return loss

  grad_fn = jax.grad(loss_fn)
  grads = grad_fn(state.params)
  state = state.apply_gradients(grads=grads)
  return state


@jax.jit
def cnn_metrics(state, batch):
  logits = state.apply_fn({'params': state.params}, batch['image'])
  loss = optax.softmax_cross_entropy_with_integer_labels(
    logits=logits, labels=batch['label']).mean()
  return loss, jnp.mean(jnp.argmax(logits, -1) == batch['label'])


def _digit_batch(n=16, seed=0):
  """Two synthetic 'digits' (bright top half vs bright bottom half) plus noise."""
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, 2, n)
  img = rng.normal(0, 0.1, (n, 28, 28, 1)).astype(np.float32)
  img[labels == 0, :14] += 1.0
  img[labels == 1, 14:] += 1.0
  return {'image': jnp.asarray(img), 'label': jnp.asarray(labels, jnp.int32)}


def test_quickstart_cnn_trains():
  cnn = CNN()
  variables = cnn.init(jax.random.PRNGKey(0), jnp.ones((1, 28, 28, 1)))
  assert jax.tree_util.tree_map(jnp.shape, variables) == {'params': {
    'Conv_0': {'kernel': (3, 3, 1, 32), 'bias': (32,)},
    'Conv_1': {'kernel': (3, 3, 32, 64), 'bias': (64,)},
    'Dense_0': {'kernel': (3136, 256), 'bias': (256,)},
    'Dense_1': {'kernel': (256, 10), 'bias': (10,)},
  }}
  n_params = sum(x.size for x in jax.tree_util.tree_leaves(variables))
  assert n_params == 824_458  # "Total Parameters: 824,458" (docs L244)
  state = create_train_state(cnn, jax.random.PRNGKey(0), learning_rate=0.01, momentum=0.9)
  batch = _digit_batch(n=8)
  loss0, _ = cnn_metrics(state, batch)
  for _ in range(3):
    state = cnn_train_step(state, batch)
  loss, acc = cnn_metrics(state, batch)
  assert int(state.step) == 3
  assert float(loss) < float(loss0) and float(acc) == 1.0


# ----------------------------------------------------------------- BatchNorm guide
class MLP(nn.Module):
  @nn.compact
  def __call__(self, x, train: bool):
    x = nn.Dense(features=4)(x)
    x = nn.BatchNorm(use_running_average=not train)(x)
    x = nn.relu(x)
    x = nn.Dense(features=1)(x)
    return x


class BNTrainState(train_state.TrainState):
  batch_stats: Any


def test_batchnorm_guide():
  mlp = MLP()
  x = jnp.ones((1, 3))
  variables = mlp.init(jax.random.PRNGKey(0), x, train=False)
  params = variables['params']
  batch_stats = variables['batch_stats']
  assert jax.tree_util.tree_map(jnp.shape, variables) == {
    'batch_stats': {'BatchNorm_0': {'mean': (4,), 'var': (4,)}},
    'params': {
      'BatchNorm_0': {'bias': (4,), 'scale': (4,)},
      'Dense_0': {'bias': (4,), 'kernel': (3, 4)},
      'Dense_1': {'bias': (1,), 'kernel': (4, 1)},
    },
  }

  y, updates = mlp.apply({'params': params, 'batch_stats': batch_stats}, x, train=True,
                         mutable=['batch_stats'])
  batch_stats = updates['batch_stats']
  assert list(updates) == ['batch_stats'] and y.shape == (1, 1)

  state = BNTrainState.create(apply_fn=mlp.apply, params=params, batch_stats=batch_stats,
                              tx=optax.adam(1e-3))

  @jax.jit
  def train_step(state: BNTrainState, batch):
    """Train for a single step."""

    def loss_fn(params):
      logits, updates = state.apply_fn(
        {'params': params, 'batch_stats': state.batch_stats},
        x=batch['image'], train=True, mutable=['batch_stats'])
      loss = optax.softmax_cross_entropy_with_integer_labels(
        logits=logits, labels=batch['label'])
      return loss.mean(), (logits, updates)

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
    (loss, (logits, updates)), grads = grad_fn(state.params)
    state = state.apply_gradients(grads=grads)
    state = state.replace(batch_stats=updates['batch_stats'])
    metrics = {
      'loss': loss,
      'accuracy': jnp.mean(jnp.argmax(logits, -1) == batch['label']),
    }
    return state, metrics

  @jax.jit
  def eval_step(state: BNTrainState, batch):
    logits = state.apply_fn(
      {'params': state.params, 'batch_stats': state.batch_stats},
      x=batch['image'], train=False)
    return logits

  xb = jnp.asarray(np.random.default_rng(0).normal(3.0, 2.0, (8, 3)), jnp.float32)
  batch = {'image': xb, 'label': jnp.zeros((8,), jnp.int32)}
  old_mean = state.batch_stats['BatchNorm_0']['mean']
  state, metrics = train_step(state, batch)
  assert int(state.step) == 1 and np.isfinite(float(metrics['loss']))
  assert not np.allclose(state.batch_stats['BatchNorm_0']['mean'], old_mean)
  assert eval_step(state, batch).shape == (8, 1)


# ----------------------------------------------------------------- Dropout guide
class MyModel(nn.Module):
  num_neurons: int

  @nn.compact
  def __call__(self, x, training: bool):
    x = nn.Dense(self.num_neurons)(x)
    # Set the dropout layer with a `rate` of 50%.
    # When the `deterministic` flag is `True`, dropout is turned off.
    x = nn.Dropout(rate=0.5, deterministic=not training)(x)
    return x


class DropoutTrainState(train_state.TrainState):
  key: jax.Array


def test_dropout_guide():
  root_key = jax.random.PRNGKey(seed=0)
  main_key, params_key, dropout_key = jax.random.split(key=root_key, num=3)
  my_model = MyModel(num_neurons=3)
  x = jnp.empty((3, 4, 4))
  # Dropout is disabled with `training=False` (that is, `deterministic=True`).
  variables = my_model.init(params_key, x, training=False)
  params = variables['params']
  # Dropout is enabled with `training=True` (that is, `deterministic=False`).
  y = my_model.apply({'params': params}, x, training=True, rngs={'dropout': dropout_key})
  assert y.shape == (3, 4, 3)
  y_eval = my_model.apply({'params': params}, x, training=False)
  kept = np.asarray(y) != 0
  np.testing.assert_allclose(np.asarray(y)[kept], 2 * np.asarray(y_eval)[kept], rtol=1e-5)

  state = DropoutTrainState.create(apply_fn=my_model.apply, params=params, key=dropout_key,
                                   tx=optax.adam(1e-3))

  @jax.jit
  def train_step(state: DropoutTrainState, batch, dropout_key):
    dropout_train_key = jax.random.fold_in(key=dropout_key, data=state.step)

    def loss_fn(params):
      logits = state.apply_fn(
        {'params': params},
        x=batch['image'],
        training=True,
        rngs={'dropout': dropout_train_key}
      )
      loss = optax.softmax_cross_entropy_with_integer_labels(
        logits=logits, labels=batch['label'])
      return loss.mean(), logits

    grad_fn = jax.value_and_grad(loss_fn, has_aux=True)
    (loss, logits), grads = grad_fn(state.params)
    state = state.apply_gradients(grads=grads)
    return state

  batch = {'image': jnp.ones((2, 4)), 'label': jnp.array([0, 2])}
  state = train_step(state, batch, state.key)
  state = train_step(state, batch, state.key)
  assert int(state.step) == 2
