"""Workload specifications and the three implementations of each (pure JAX, flaxen, flax).

An ``Impl`` exposes the same five entry points for every library:

* ``init(x)``: what ``Module.init`` does eagerly (params + the forward pass); for
  pure JAX the *floor*: param creation and the same eager forward pass;
* ``create(x)``: params without the forward computation (``lazy_init`` with a
  ``jax.ShapeDtypeStruct``; pure JAX: param creation alone);
* ``eager(variables, x)``: one un-jitted inference call;
* ``step``: a fresh (never-traced) jittable train step
  ``(variables, x, y, dropout_key) -> (variables, loss)`` — plain SGD on a
  softmax cross-entropy (MSE for the MLPs), BatchNorm statistics carried along.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import jax
import jax.numpy as jnp

from . import linen_models, pure_models

PARAMS_KEY = jax.random.PRNGKey(0)
DROPOUT_KEY = jax.random.PRNGKey(1)


@dataclasses.dataclass(frozen=True)
class Spec:
  name: str  # short id used in the JSON and on the command line
  label: str  # row label in the tables
  kind: str  # mlp | cnn | resnet | decoder
  model: dict
  shape: tuple  # one example (no batch axis)
  batch: int  # train-step batch
  loss: str  # 'mse' | 'xent'
  big: bool = False  # too costly to compile/step in --quick mode

  @property
  def tokens(self) -> bool:
    return self.kind == 'decoder'


def _decoder(layers, scan, batch, big=False):
  cfg = dict(vocab=8192, d=256, heads=4, layers=layers, seq=128, rate=0.1, scan=scan)
  label = f'{layers}-layer Transformer' + (', nn.scan' if scan else '')
  name = f'tf{layers}' + ('_scan' if scan else '')
  return Spec(name, label, 'decoder', cfg, (128,), batch, 'xent', big)


DEEP = 48  # layers of the deep Transformer (full mode)
DEEP_QUICK = 12  # ... and in --quick mode, where everything else keeps its full size


def specs(quick: bool) -> list[Spec]:
  """The workloads of issue 11.

  ``quick`` shrinks the train-step batches and the deep Transformer (48 -> 12
  layers; its per-layer costs, hence its ratios, hardly depend on depth), and
  marks the unrolled deep model ``big`` (not compiled in quick mode).
  """
  b = (lambda full, small: small) if quick else (lambda full, small: full)
  deep = DEEP_QUICK if quick else DEEP
  return [
    Spec('tiny_mlp', 'tiny MLP', 'mlp', {'widths': (16, 16, 1)}, (8,), 16, 'mse'),
    Spec('mlp', 'MLP 4x1024', 'mlp', {'widths': (1024,) * 4}, (1024,), 128, 'mse'),
    Spec('cnn', 'quickstart CNN', 'cnn', {}, (28, 28, 1), b(128, 32), 'xent'),
    Spec('resnet18', 'ResNet-18 (BatchNorm)', 'resnet', {}, (32, 32, 3), b(128, 8), 'xent'),
    _decoder(6, False, b(8, 2)),
    _decoder(deep, False, b(8, 2), big=True),
    _decoder(deep, True, b(8, 2)),
  ]


def deep_spec(quick: bool) -> Spec:
  """The unrolled deep Transformer (the cold runs' workload)."""
  return _decoder(DEEP_QUICK if quick else DEEP, False, 1, big=True)


def serialization_params():
  """The 48-layer Transformer's params (~169 MB), created by the pure-JAX twin."""
  spec = _decoder(DEEP, False, 1)
  return pure_models.create(spec, PARAMS_KEY, (1, *spec.shape))['params']


# ----------------------------------------------------------------------------- data


def example(spec: Spec, batch: int, seed: int = 2):
  """A deterministic input batch for ``spec``."""
  key = jax.random.PRNGKey(seed)
  if spec.tokens:
    return jax.random.randint(key, (batch, *spec.shape), 0, spec.model['vocab'], jnp.int32)
  return jax.random.normal(key, (batch, *spec.shape), jnp.float32)


def targets(spec: Spec, batch: int, seed: int = 3):
  key = jax.random.PRNGKey(seed)
  if spec.loss == 'mse':
    return jax.random.normal(key, (batch, spec.model['widths'][-1]), jnp.float32)
  classes = spec.model['vocab'] if spec.tokens else 10
  shape = (batch, *spec.shape) if spec.tokens else (batch,)
  return jax.random.randint(key, shape, 0, classes, jnp.int32)


def loss_fn(kind: str, out, y):
  if kind == 'mse':
    return jnp.mean(jnp.square(out - y))
  logp = jax.nn.log_softmax(out)
  return -jnp.mean(jnp.take_along_axis(logp, y[..., None], axis=-1))


def sgd(params, grads, lr=1e-3):
  return jax.tree_util.tree_map(lambda p, g: p - lr * g, params, grads)


# ----------------------------------------------------------------------------- implementations


@dataclasses.dataclass
class Impl:
  name: str
  spec: Spec
  module: Any = None  # the Linen module (None for pure JAX)

  # -- eager entry points
  def init(self, x):
    if self.module is None:
      v = pure_models.create(self.spec, PARAMS_KEY, x.shape)
      return v, pure_models.forward(self.spec, v, x)[0]
    return self.module.init(PARAMS_KEY, x, train=False)

  def create(self, x):
    if self.module is None:
      return pure_models.create(self.spec, PARAMS_KEY, x.shape)
    shape = jax.ShapeDtypeStruct(x.shape, x.dtype)
    return self.module.lazy_init(PARAMS_KEY, shape, train=False)

  def eager(self, variables, x):
    if self.module is None:
      return pure_models.forward(self.spec, variables, x)[0]
    return self.module.apply(variables, x, train=False)

  # -- jitted train step
  def train_apply(self, variables, x, key):
    """``(output, new batch_stats or None)`` in training mode."""
    if self.module is None:
      return pure_models.forward(self.spec, variables, x, train=True, rng=key)
    if 'batch_stats' in variables:
      out, state = self.module.apply(variables, x, train=True, mutable=['batch_stats'])
      return out, state['batch_stats']
    rngs = {'dropout': key} if self.spec.tokens else None
    return self.module.apply(variables, x, train=True, rngs=rngs), None

  def step(self):
    """A new train-step function object (so that ``jax.jit`` cannot reuse a trace)."""
    kind = self.spec.loss

    def loss(params, rest, x, y, key):
      out, stats = self.train_apply({'params': params, **rest}, x, key)
      return loss_fn(kind, out, y), stats

    def train_step(variables, x, y, key):
      rest = {k: v for k, v in variables.items() if k != 'params'}
      (value, stats), grads = jax.value_and_grad(loss, has_aux=True)(
        variables['params'], rest, x, y, key)
      new = {'params': sgd(variables['params'], grads)}
      if stats is not None:
        new['batch_stats'] = stats
      return new, value

    return train_step


def implementations(spec: Spec, libs: dict) -> dict[str, Impl]:
  """``{'jax': ..., 'flaxen': ..., 'flax': ...}`` (flax only when in ``libs``)."""
  out = {'jax': Impl('jax', spec)}
  for name, nn in libs.items():
    out[name] = Impl(name, spec, linen_models.build(nn, spec))
  return out
