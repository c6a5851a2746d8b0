"""The benchmark workloads written once against a Linen-compatible ``nn`` namespace.

``build(nn, spec)`` returns the Module for ``spec``; the same code runs with
``flaxen.linen`` and with the reference ``flax.linen``. Every model takes
``(inputs, train)``: ``train=False`` for ``init``/``lazy_init`` and the eager
batch-1 call, ``train=True`` inside the jitted train step (batch statistics,
dropout). Layer names are the auto names, so the parameter trees of the
pure-JAX twins (``pure_models.py``) can spell them out.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp


def _mlp_classes(nn):
  class MLP(nn.Module):
    widths: tuple

    @nn.compact
    def __call__(self, x, train=False):
      last = len(self.widths) - 1
      for i, width in enumerate(self.widths):
        x = nn.Dense(width)(x)
        if i != last:
          x = nn.relu(x)
      return x

  return MLP


def _cnn_classes(nn):
  class CNN(nn.Module):
    """The quickstart CNN of the seeds (two conv/ReLU/avg-pool stages, two Dense)."""

    @nn.compact
    def __call__(self, x, train=False):
      for features in (32, 64):
        x = nn.Conv(features=features, kernel_size=(3, 3))(x)
        x = nn.avg_pool(nn.relu(x), window_shape=(2, 2), strides=(2, 2))
      x = x.reshape((x.shape[0], -1))
      x = nn.relu(nn.Dense(features=256)(x))
      return nn.Dense(features=10)(x)

  return CNN


def _resnet_classes(nn):
  class BasicBlock(nn.Module):
    filters: int
    stride: int

    @nn.compact
    def __call__(self, x, train):
      norm = functools.partial(nn.BatchNorm, use_running_average=not train, momentum=0.9)
      strides = (self.stride, self.stride)
      y = nn.Conv(self.filters, (3, 3), strides, use_bias=False)(x)
      y = nn.relu(norm()(y))
      y = nn.Conv(self.filters, (3, 3), use_bias=False)(y)
      y = norm()(y)
      if x.shape != y.shape:
        x = nn.Conv(self.filters, (1, 1), strides, use_bias=False)(x)
        x = norm()(x)
      return nn.relu(x + y)

  class ResNet18(nn.Module):
    """ResNet-18 for 32x32 images: 3x3 stem, four stages of two basic blocks."""

    classes: int = 10

    @nn.compact
    def __call__(self, x, train=False):
      x = nn.Conv(64, (3, 3), use_bias=False)(x)
      x = nn.relu(nn.BatchNorm(use_running_average=not train, momentum=0.9)(x))
      for stage, filters in enumerate((64, 128, 256, 512)):
        for block in range(2):
          stride = 2 if stage and not block else 1
          x = BasicBlock(filters, stride)(x, train)
      x = jnp.mean(x, axis=(1, 2))
      return nn.Dense(self.classes)(x)

  return ResNet18


def _decoder_classes(nn):
  class Block(nn.Module):
    """Pre-LayerNorm decoder block; returns ``(x, None)`` so that it can be scanned."""

    d: int
    heads: int
    rate: float
    deterministic: bool

    @nn.compact
    def __call__(self, x, mask):
      y = nn.LayerNorm()(x)
      y = nn.MultiHeadDotProductAttention(
        num_heads=self.heads, dropout_rate=self.rate, deterministic=self.deterministic
      )(y, mask=mask)
      x = x + nn.Dropout(self.rate)(y, deterministic=self.deterministic)
      y = nn.LayerNorm()(x)
      y = nn.Dense(4 * self.d)(y)
      y = nn.Dense(self.d)(nn.gelu(y))
      return x + nn.Dropout(self.rate)(y, deterministic=self.deterministic), None

  class Decoder(nn.Module):
    """Decoder-only Transformer LM: token + learned position embedding, causal blocks."""

    vocab: int
    d: int
    heads: int
    layers: int
    seq: int
    rate: float
    scan: bool

    @nn.compact
    def __call__(self, tokens, train=False):
      x = nn.Embed(self.vocab, self.d, name='embed')(tokens)
      pos = self.param('pos', nn.initializers.normal(0.02), (1, self.seq, self.d))
      x = nn.Dropout(self.rate)(x + pos, deterministic=not train)
      mask = nn.make_causal_mask(tokens)
      block = functools.partial(
        Block if not self.scan else nn.scan(
          Block, variable_axes={'params': 0}, split_rngs={'params': True, 'dropout': True},
          in_axes=nn.broadcast, length=self.layers),
        self.d, self.heads, self.rate, not train)
      if self.scan:
        x, _ = block(name='layers')(x, mask)
      else:
        for _ in range(self.layers):
          x, _ = block()(x, mask)
      x = nn.LayerNorm(name='ln_f')(x)
      return nn.Dense(self.vocab, name='head')(x)

  return Decoder


def build(nn, spec):
  """The Module of workload ``spec`` (a ``workloads.Spec``) written with ``nn``."""
  kind, cfg = spec.kind, spec.model
  if kind == 'mlp':
    return _mlp_classes(nn)(widths=tuple(cfg['widths']))
  if kind == 'cnn':
    return _cnn_classes(nn)()
  if kind == 'resnet':
    return _resnet_classes(nn)()
  if kind == 'decoder':
    return _decoder_classes(nn)(**cfg)
  raise ValueError(f'unknown workload kind {kind!r}')
