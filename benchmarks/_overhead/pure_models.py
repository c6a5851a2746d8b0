"""The workloads in hand-written pure JAX: ``create(spec, key)`` and ``forward(spec, ...)``.

``create`` returns the variables dict a Linen ``init`` returns (``{'params': ...}``
plus ``'batch_stats'`` for the ResNet), bit for bit; ``forward(spec, variables,
x, train, rng)`` returns ``(output, updated batch_stats or None)``. With
``train=True`` the decoders draw their dropout keys exactly as Linen does
(``rng`` is the ``'dropout'`` base key).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from . import pure as P

# ----------------------------------------------------------------------------- MLP / CNN


def _mlp_create(cfg, key, in_dim):
  dims = (in_dim, *cfg['widths'])
  return {'params': {f'Dense_{i}': P.dense_params(key, (f'Dense_{i}',), a, b)
                     for i, (a, b) in enumerate(zip(dims[:-1], dims[1:]))}}


def _mlp_forward(cfg, v, x, train, rng):
  p = v['params']
  last = len(cfg['widths']) - 1
  for i in range(last + 1):
    x = P.dense(p[f'Dense_{i}'], x)
    if i != last:
      x = jax.nn.relu(x)
  return x, None


def _cnn_create(cfg, key, shape):
  h, w, c = shape[-3:]
  flat = (h // 4) * (w // 4) * 64
  return {'params': {
    'Conv_0': P.conv_params(key, ('Conv_0',), (3, 3), c, 32),
    'Conv_1': P.conv_params(key, ('Conv_1',), (3, 3), 32, 64),
    'Dense_0': P.dense_params(key, ('Dense_0',), flat, 256),
    'Dense_1': P.dense_params(key, ('Dense_1',), 256, 10),
  }}


def _cnn_forward(cfg, v, x, train, rng):
  p = v['params']
  for name in ('Conv_0', 'Conv_1'):
    x = P.avg_pool2(jax.nn.relu(P.conv(p[name], x)))
  x = x.reshape((x.shape[0], -1))
  x = jax.nn.relu(P.dense(p['Dense_0'], x))
  return P.dense(p['Dense_1'], x), None


# ----------------------------------------------------------------------------- ResNet-18

_STAGES = (64, 128, 256, 512)


def _resnet_plan():
  """``(name, filters, stride, fan_in)`` of the eight basic blocks."""
  plan, fan_in = [], 64
  for stage, filters in enumerate(_STAGES):
    for block in range(2):
      plan.append((f'BasicBlock_{len(plan)}', filters, 2 if stage and not block else 1, fan_in))
      fan_in = filters
  return plan


def _resnet_create(cfg, key, shape):
  params = {'Conv_0': P.conv_params(key, ('Conv_0',), (3, 3), shape[-1], 64, bias=False),
            'BatchNorm_0': P.norm_params(64)}
  stats = {'BatchNorm_0': P.running_stats(64)}
  for name, filters, stride, fan_in in _resnet_plan():
    bp = {'Conv_0': P.conv_params(key, (name, 'Conv_0'), (3, 3), fan_in, filters, bias=False),
          'BatchNorm_0': P.norm_params(filters),
          'Conv_1': P.conv_params(key, (name, 'Conv_1'), (3, 3), filters, filters, bias=False),
          'BatchNorm_1': P.norm_params(filters)}
    bs = {'BatchNorm_0': P.running_stats(filters), 'BatchNorm_1': P.running_stats(filters)}
    if stride != 1 or fan_in != filters:
      bp['Conv_2'] = P.conv_params(key, (name, 'Conv_2'), (1, 1), fan_in, filters, bias=False)
      bp['BatchNorm_2'] = P.norm_params(filters)
      bs['BatchNorm_2'] = P.running_stats(filters)
    params[name], stats[name] = bp, bs
  params['Dense_0'] = P.dense_params(key, ('Dense_0',), _STAGES[-1], cfg.get('classes', 10))
  return {'params': params, 'batch_stats': stats}


def _resnet_forward(cfg, v, x, train, rng):
  p, s = v['params'], v['batch_stats']
  new = {}

  def norm(scope, stats, name, y):
    y, stats_out = P.batch_norm(scope[name], stats[name], y, train)
    return y, stats_out

  x = P.conv(p['Conv_0'], x)
  x, new['BatchNorm_0'] = norm(p, s, 'BatchNorm_0', x)
  x = jax.nn.relu(x)
  for name, _, stride, _ in _resnet_plan():
    bp, bs, out = p[name], s[name], {}
    y = P.conv(bp['Conv_0'], x, (stride, stride))
    y, out['BatchNorm_0'] = norm(bp, bs, 'BatchNorm_0', y)
    y = P.conv(bp['Conv_1'], jax.nn.relu(y))
    y, out['BatchNorm_1'] = norm(bp, bs, 'BatchNorm_1', y)
    if 'Conv_2' in bp:
      x = P.conv(bp['Conv_2'], x, (stride, stride))
      x, out['BatchNorm_2'] = norm(bp, bs, 'BatchNorm_2', x)
    x = jax.nn.relu(x + y)
    new[name] = out
  x = jnp.mean(x, axis=(1, 2))
  return P.dense(p['Dense_0'], x), (new if train else None)


# ----------------------------------------------------------------------------- decoder

# Linen traces an ``nn.scan`` body more than once and the RNG counters of the scopes
# inside carry over between the traces, so the keys that end up in the params (and
# the dropout masks) are those of a later draw: the kernel of a Dense is its scope's
# 3rd draw at init (kernel, bias, then kernel again), a Dropout mask its DROP-th.
SCAN_DRAW = 3
SCAN_DROP_DRAW = 2


def _block_create(cfg, key, path, draw=1):
  """One block's params; ``draw`` is the kernels' draw index in their scopes."""
  d = cfg['d']
  return {
    'LayerNorm_0': P.norm_params(d),
    'MultiHeadDotProductAttention_0': P.attention_params(
      key, (*path, 'MultiHeadDotProductAttention_0'), d, cfg['heads'], draw),
    'LayerNorm_1': P.norm_params(d),
    'Dense_0': P.dense_params(key, (*path, 'Dense_0'), d, 4 * d, draw=draw),
    'Dense_1': P.dense_params(key, (*path, 'Dense_1'), 4 * d, d, draw=draw),
  }


def _block(cfg, p, x, mask, rng, path, draw=1):
  """One decoder block; ``rng`` is the dropout base key (``None``: deterministic);
  ``draw`` is the dropout keys' draw index in their scopes."""
  rate = cfg['rate']
  drop = (lambda *where: P.key_at(rng, *path, *where, draw)) if rng is not None else None
  y = P.layer_norm(p['LayerNorm_0'], x)
  y = P.attention(p['MultiHeadDotProductAttention_0'], y, mask, cfg['heads'],
                  drop and (lambda: drop('MultiHeadDotProductAttention_0')), rate)
  x = x + (P.dropout(drop('Dropout_0'), y, rate) if drop else y)
  y = P.dense(p['Dense_0'], P.layer_norm(p['LayerNorm_1'], x))
  y = P.dense(p['Dense_1'], jax.nn.gelu(y))
  return x + (P.dropout(drop('Dropout_1'), y, rate) if drop else y)


def _decoder_create(cfg, key, shape):
  d, vocab, layers = cfg['d'], cfg['vocab'], cfg['layers']
  params = {'embed': {'embedding': P.embed_init(P.key_at(key, 'embed', 1), (vocab, d), P.F32)},
            'pos': jax.nn.initializers.normal(0.02)(P.key_at(key, 1), (1, cfg['seq'], d))}
  if cfg['scan']:
    keys = jax.random.split(key, layers)
    params['layers'] = jax.vmap(lambda k: _block_create(cfg, k, ('layers',), SCAN_DRAW))(keys)
  else:
    for i in range(layers):
      params[f'Block_{i}'] = _block_create(cfg, key, (f'Block_{i}',))
  params['ln_f'] = P.norm_params(d)
  params['head'] = P.dense_params(key, ('head',), d, vocab)
  return {'params': params}


def _decoder_forward(cfg, v, tokens, train, rng):
  p = v['params']
  rng = rng if train else None
  x = jnp.take(p['embed']['embedding'], tokens, axis=0) + p['pos']
  if rng is not None:
    x = P.dropout(P.key_at(rng, 'Dropout_0', 1), x, cfg['rate'])
  mask = P.causal_mask(tokens)
  if cfg['scan']:
    keys = None if rng is None else jax.random.split(rng, cfg['layers'])

    def body(h, layer):
      lp, lk = layer
      return _block(cfg, lp, h, mask, lk, ('layers',), SCAN_DROP_DRAW), None

    x = jax.lax.scan(body, x, (p['layers'], keys))[0]
  else:
    for i in range(cfg['layers']):
      x = _block(cfg, p[f'Block_{i}'], x, mask, rng, (f'Block_{i}',))
  x = P.layer_norm(p['ln_f'], x)
  return P.dense(p['head'], x), None


# ----------------------------------------------------------------------------- dispatch

_CREATE = {'mlp': lambda c, k, s: _mlp_create(c, k, s[-1]), 'cnn': _cnn_create,
           'resnet': _resnet_create, 'decoder': _decoder_create}
_FORWARD = {'mlp': _mlp_forward, 'cnn': _cnn_forward, 'resnet': _resnet_forward,
            'decoder': _decoder_forward}


def create(spec, key, shape):
  """The variables of ``spec`` for inputs of ``shape`` (param creation only)."""
  return _CREATE[spec.kind](spec.model, key, shape)


def forward(spec, variables, x, train=False, rng=None):
  """``(output, new batch_stats or None)``."""
  return _FORWARD[spec.kind](spec.model, variables, x, train, rng)
