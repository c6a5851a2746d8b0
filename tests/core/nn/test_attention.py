"""flaxen.core.nn.attention: dot_product_attention and multi_head_dot_product_attention.

Outputs and parameters (``query``/``key``/``value``/``out`` children) equal the
reference's ``flax.core.nn`` bit for bit, with masks, dropout and multi-axis attention;
the decoding cache reproduces full causal attention one position at a time.
"""

import hashlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import core
from flaxen.core import nn

X = jax.random.normal(jax.random.key(1), (2, 5, 6))
Q = jax.random.normal(jax.random.key(3), (2, 5, 2, 4))
K = jax.random.normal(jax.random.key(4), (2, 5, 2, 4))
V = jax.random.normal(jax.random.key(5), (2, 5, 2, 3))
Q2D = jax.random.normal(jax.random.key(3), (2, 3, 4, 2, 4))
IMG = jax.random.normal(jax.random.key(6), (2, 3, 4, 6))
PADDING = jnp.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
SEGMENTS = jnp.array([[1, 1, 2, 2, 2], [1, 2, 2, 3, 3]])

mha = nn.multi_head_dot_product_attention

# name -> (fn, args, kwargs, mutable)
CASES = {
  "dpa": (nn.dot_product_attention, (Q, K, V), {}, False),
  "dpa_bias": (nn.dot_product_attention, (Q, K, V), {"bias": jnp.ones((2, 2, 5, 5))}, False),
  "dpa_dropout": (nn.dot_product_attention, (Q, K, V), {"dropout_rate": 0.5}, False),
  "dpa_dropout_unbroadcast": (nn.dot_product_attention, (Q, K, V), {
    "dropout_rate": 0.5, "broadcast_dropout": False}, False),
  "dpa_2d": (nn.dot_product_attention, (Q2D, Q2D, Q2D), {"axis": (1, 2)}, False),
  "mha_self": (mha, (X, None), {"num_heads": 2}, False),
  "mha_cross_causal": (mha, (X, X * 2), {
    "num_heads": 3, "qkv_features": 9, "out_features": 4, "causal_mask": True,
    "dropout_rate": 0.2}, False),
  "mha_masks": (mha, (X, None), {
    "num_heads": 2, "padding_mask": PADDING, "segmentation": SEGMENTS, "bias": False}, False),
  "mha_key_masks": (mha, (X, None), {
    "num_heads": 2, "padding_mask": PADDING, "key_padding_mask": PADDING[::-1],
    "segmentation": SEGMENTS, "key_segmentation": SEGMENTS[::-1], "deterministic": True,
    "dropout_rate": 0.5}, False),
  "mha_2d_causal": (mha, (IMG, None), {"num_heads": 2, "causal_mask": True}, False),
  "mha_bf16": (mha, (X, None), {"num_heads": 1, "dtype": jnp.bfloat16}, False),
}

EXPECTED = {
  'dpa': ('6e1ae3aa11e2', '97d170e1550e', '6e1ae3aa11e2'),
  'dpa_bias': ('b739a3c392e3', '97d170e1550e', 'b739a3c392e3'),
  'dpa_dropout': ('2b1ca539be30', '97d170e1550e', '3b76b91e20ee'),
  'dpa_dropout_unbroadcast': ('0bbec6781885', '97d170e1550e', 'efc569d5177d'),
  'dpa_2d': ('edea403e1ffa', '97d170e1550e', 'edea403e1ffa'),
  'mha_self': ('745cc7b5b074', '2cba1e5486b3', '745cc7b5b074'),
  'mha_cross_causal': ('57bd133a9a9e', 'a57e4bd5b93d', 'd02dc2d6ddbc'),
  'mha_masks': ('8f270a449a8b', '5add9163b87c', '8f270a449a8b'),
  'mha_key_masks': ('c4ae6e1c2c16', '2cba1e5486b3', 'c4ae6e1c2c16'),
  'mha_2d_causal': ('c39a2bd3e677', '2cba1e5486b3', 'c39a2bd3e677'),
  'mha_bf16': ('0a9ccb073f04', 'bd8bacb6c99d', '0a9ccb073f04'),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_reference(name, run_case):
  got = run_case(core, *CASES[name])
  assert (got["init"], got["vars"], got["apply"]) == EXPECTED[name]


def test_every_case_has_expected_values():
  assert set(EXPECTED) == set(CASES)


def test_parameter_tree():
  _, v = core.init(mha)(jax.random.key(0), X, None, num_heads=2, qkv_features=8)
  shapes = jax.tree_util.tree_map(jnp.shape, core.unfreeze(v["params"]))
  assert shapes == {
    "query": {"kernel": (6, 2, 4), "bias": (2, 4)},
    "key": {"kernel": (6, 2, 4), "bias": (2, 4)},
    "value": {"kernel": (6, 2, 4), "bias": (2, 4)},
    "out": {"kernel": (2, 4, 6), "bias": (6,)},
  }


def test_dot_product_attention_is_softmax_attention():
  got = core.apply(nn.dot_product_attention)({}, Q, K, V)
  logits = jnp.einsum("bqhd,bkhd->bhqk", Q, K) / 2.0
  expected = jnp.einsum("bhqk,bkhd->bqhd", jax.nn.softmax(logits, -1), V)
  np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def _one_step(scope, x):
  return mha(scope, x, None, num_heads=2, causal_mask=True, cache=True)


def test_cache_decoding_matches_full_causal_attention():
  _, v = core.init(_one_step)(jax.random.key(0), X)
  make_entry = v["cache"]["entry"]  # init stores a function of (batch+length shape, dtype)
  state = {"entry": make_entry((2, 5), jnp.float32)}
  assert isinstance(state["entry"], nn.attention.CacheEntry)
  steps = []
  for t in range(5):
    y, updated = core.apply(_one_step, mutable="cache")(
      {"params": v["params"], "cache": state}, X[:, t:t + 1])
    state = updated["cache"]
    steps.append(y)
  assert int(state["entry"].i) == 5
  full = core.apply(lambda s, x: mha(s, x, None, num_heads=2, causal_mask=True))(
    {"params": v["params"]}, X)
  np.testing.assert_allclose(jnp.concatenate(steps, 1), full, rtol=1e-5, atol=1e-6)


def test_cache_errors():
  _, v = core.init(_one_step)(jax.random.key(0), X)
  with pytest.raises(ValueError, match="Shape should be a tuple with the shape of the "
                                       "batchand attention dims."):
    v["cache"]["entry"]((2,), jnp.float32)
  entry = v["cache"]["entry"]((2, 5), jnp.float32)
  with pytest.raises(ValueError, match=r"Invalid shape provided, expected shape \(2, 1, 6\) "
                                       r"instead got \(2, 2, 6\)\."):
    core.apply(_one_step, mutable="cache")({"params": v["params"], "cache": {"entry": entry}},
                                           X[:, :2])
  with pytest.raises(ValueError, match="Cache is not initialized."):
    core.apply(_one_step, mutable="cache")({"params": v["params"], "cache": {"entry": 0}},
                                           X[:, :1])


def test_assertions():
  with pytest.raises(AssertionError, match="Caching is only support for causal attention."):
    core.init(mha)(jax.random.key(0), X, None, num_heads=2, cache=True)
  with pytest.raises(AssertionError, match="Memory dimension must be divisible by number of "
                                           "heads."):
    core.init(mha)(jax.random.key(0), X, None, num_heads=4)


@pytest.mark.parametrize("axis", [0, 3, (1, 3)])
def test_attention_axis_must_lie_between_batch_and_heads(axis):
  with pytest.raises(ValueError, match="Attention axis must be between the batch axis and "
                                       "the last-two axes."):
    core.apply(nn.dot_product_attention)({}, Q, K, V, axis=axis)


def test_custom_attention_fn_runs_in_a_child_scope():
  seen = []

  def attention(scope, q, k, v, **kwargs):
    seen.append(scope.path)
    return nn.dot_product_attention(scope, q, k, v, **kwargs)

  core.init(mha)(jax.random.key(0), X, None, num_heads=2, attention_fn=attention)
  assert seen == [("attention_0",)]


def _trace(fn, *args, **kwargs):
  def text():
    rngs = {"params": jax.random.key(0), "dropout": jax.random.key(1)}
    _, v = core.init(fn)(rngs, *args, **kwargs)
    return str(jax.make_jaxpr(
      lambda v, r: core.apply(fn)(v, *args, rngs=r, **kwargs))(v, rngs))

  return text


# Applying attention traces to the reference's jaxpr, op for op (TRACE_HASHES: the
# reference's, same code).
TRACES = {
  "mha_causal_dropout": _trace(mha, X, None, num_heads=2, causal_mask=True, dropout_rate=0.1),
  "mha_masks_bf16": _trace(mha, X, X * 2, num_heads=3, qkv_features=9, padding_mask=PADDING,
                           segmentation=SEGMENTS, dtype=jnp.bfloat16),
  "dpa_2d": _trace(nn.dot_product_attention, Q2D, Q2D, Q2D, axis=(1, 2), dropout_rate=0.5,
                   broadcast_dropout=False),
}

TRACE_HASHES = {
  'mha_causal_dropout': '8edac02b9ac1',
  'mha_masks_bf16': '0fab63ca6585',
  'dpa_2d': '3373006ecbed',
}


@pytest.mark.parametrize("name", list(TRACES))
def test_traces_equal_the_reference(name):
  assert hashlib.sha1(TRACES[name]().encode()).hexdigest()[:12] == TRACE_HASHES[name]
