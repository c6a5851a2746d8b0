"""flaxen.core.nn.linear: dense, dense_general, conv, conv_transpose and embedding.

Each case is run through ``core.init`` and ``core.apply``; the hashes of the outputs and
the variables equal those the reference's ``flax.core.nn`` gives for the same code and
keys (see conftest.py).
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import core
from flaxen.core import nn

X = jax.random.normal(jax.random.key(1), (2, 5, 6))
IMG = jax.random.normal(jax.random.key(2), (2, 8, 8, 4))


def _embed(scope, ids, query):
  table = nn.embedding(scope, 10, 6)
  return table.lookup(ids), table.attend(query)


# name -> (fn, args, kwargs, mutable)
CASES = {
  "dense": (nn.dense, (X, 3), {}, False),
  "dense_no_bias": (nn.dense, (X, 3), {"bias": False}, False),
  "dense_bf16": (nn.dense, (X, 3), {"dtype": jnp.bfloat16}, False),
  "dense_init": (nn.dense, (X, 2), {"kernel_init": nn.initializers.normal(0.5),
                                    "bias_init": nn.initializers.ones_init()}, False),
  "dense_general_axes": (nn.dense_general, (X, (3, 4)), {"axis": (-2, -1)}, False),
  "dense_general_batch": (nn.dense_general, (X, 3), {"axis": -1, "batch_dims": 0}, False),
  "dense_general_batch2": (nn.dense_general, (X, (2, 3)), {"batch_dims": (0, 1)}, False),
  "conv": (nn.conv, (IMG, 3, (3, 3)), {}, False),
  "conv_strided_groups": (nn.conv, (IMG, 4, (3, 3)), {
    "strides": (2, 2), "padding": "VALID", "kernel_dilation": (1, 2), "feature_group_count": 2,
  }, False),
  "conv_input_dilation": (nn.conv, (IMG, 4, (3, 3)), {
    "input_dilation": (2, 1), "padding": ((1, 0), (2, 2)),
  }, False),
  "conv_1d": (nn.conv, (X, 2, (2,)), {"bias": False}, False),
  "conv_transpose": (nn.conv_transpose, (IMG, 3, (3, 3)), {"strides": (2, 2)}, False),
  "conv_transpose_valid": (nn.conv_transpose, (IMG, 3, (2, 2)), {
    "padding": "VALID", "kernel_dilation": (2, 2),
  }, False),
  "embedding": (_embed, (jnp.array([[1, 3], [9, 0]]), X), {}, False),
}

EXPECTED = {
  'dense': ('cec8f989ea7e', 'c31299e76741', 'cec8f989ea7e'),
  'dense_no_bias': ('cec8f989ea7e', 'ba4614ced57c', 'cec8f989ea7e'),
  'dense_bf16': ('a5f26542932e', 'c31299e76741', 'a5f26542932e'),
  'dense_init': ('97bef6529cbe', '9dd9ce02d63d', '97bef6529cbe'),
  'dense_general_axes': ('b0dded09e21a', '560b758f41fa', 'b0dded09e21a'),
  'dense_general_batch': ('908afbe361d9', '2f24626ef345', '908afbe361d9'),
  'dense_general_batch2': ('b31aee657287', '5a74a69e475c', 'b31aee657287'),
  'conv': ('4fe7f31d4e2d', 'c6dc7cbaacfa', '4fe7f31d4e2d'),
  'conv_strided_groups': ('7eae003d6ae7', 'bcca27829471', '7eae003d6ae7'),
  'conv_input_dilation': ('9abcd348db9c', '00a9b74336c8', '9abcd348db9c'),
  'conv_1d': ('c00518425230', '1fac8ade66c2', 'c00518425230'),
  'conv_transpose': ('b273f4c19b8e', 'c6dc7cbaacfa', 'b273f4c19b8e'),
  'conv_transpose_valid': ('93149c9dec1f', '874654619bef', '93149c9dec1f'),
  'embedding': ('556b11660517', '84a55883af30', '556b11660517'),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_reference(name, run_case):
  got = run_case(core, *CASES[name])
  assert (got["init"], got["vars"], got["apply"]) == EXPECTED[name]


def test_every_case_has_expected_values():
  assert set(EXPECTED) == set(CASES)


def _param_shapes(fn, *args, **kwargs):
  _, v = core.init(fn)(jax.random.key(0), *args, **kwargs)
  return jax.tree_util.tree_map(jnp.shape, dict(v["params"]))


def test_parameter_names_and_shapes():
  assert _param_shapes(nn.dense, X, 3) == {"kernel": (6, 3), "bias": (3,)}
  assert _param_shapes(nn.dense_general, X, (3, 4), axis=(1, 2)) == {
    "kernel": (5, 6, 3, 4), "bias": (3, 4)}
  assert _param_shapes(nn.dense_general, X, 3, batch_dims=0) == {
    "kernel": (2, 6, 3), "bias": (2, 3)}
  assert _param_shapes(nn.conv, IMG, 8, (3, 2), feature_group_count=4) == {
    "kernel": (3, 2, 1, 8), "bias": (8,)}
  assert _param_shapes(nn.conv_transpose, IMG, 5, (3, 3)) == {
    "kernel": (3, 3, 4, 5), "bias": (5,)}
  assert _param_shapes(lambda s: nn.embedding(s, 7, 2).table) == {"table": (7, 2)}


def test_batched_kernel_slices_start_equal():
  # every batch slice is drawn with the same key, so they start identical
  _, v = core.init(nn.dense_general)(jax.random.key(0), X, 3, batch_dims=0)
  kernel = v["params"]["kernel"]
  np.testing.assert_array_equal(kernel[0], kernel[1])


def test_dense_general_rejects_non_leading_batch_dims():
  with pytest.raises(ValueError, match=r"batch_dims \(1,\) must be consecutive leading "
                                       r"dimensions starting from 0\."):
    core.init(nn.dense_general)(jax.random.key(0), X, 3, axis=-1, batch_dims=1)


def test_dense_uses_precision_and_computes_in_dtype():
  y, v = core.init(functools.partial(nn.dense, dtype=jnp.bfloat16))(jax.random.key(0), X, 3)
  assert y.dtype == jnp.bfloat16
  assert v["params"]["kernel"].dtype == jnp.float32  # stored in float32
  y, _ = core.init(nn.dense)(jax.random.key(0), X, 3, precision=jax.lax.Precision.HIGHEST)
  manual = X @ v["params"]["kernel"]
  np.testing.assert_allclose(y, manual, rtol=1e-5, atol=1e-5)


def test_conv_group_count_must_divide_channels():
  with pytest.raises(AssertionError):
    core.init(nn.conv)(jax.random.key(0), IMG, 4, (3, 3), feature_group_count=3)


def test_embedding_lookup_requires_integer_indices():
  table = nn.linear.Embedding(jnp.arange(6.0).reshape(3, 2))
  np.testing.assert_array_equal(table.lookup(jnp.array([2, 0])), [[4.0, 5.0], [0.0, 1.0]])
  np.testing.assert_array_equal(table.attend(jnp.array([1.0, 1.0])), [1.0, 5.0, 9.0])
  with pytest.raises(ValueError, match="Input type must be an integer or unsigned integer."):
    table.lookup(jnp.array([0.0]))


def test_embedding_is_a_pytree():
  table = nn.Embedding(jnp.ones((2, 2)))
  doubled = jax.tree_util.tree_map(lambda t: 2 * t, table)
  assert isinstance(doubled, nn.Embedding)
  np.testing.assert_array_equal(doubled.table, 2 * jnp.ones((2, 2)))


def test_default_initializers():
  key = jax.random.key(3)
  expected = jax.nn.initializers.lecun_normal()(key, (4, 5))
  np.testing.assert_array_equal(nn.linear.default_kernel_init(key, (4, 5)), expected)
  expected = jax.nn.initializers.variance_scaling(1.0, "fan_in", "normal", out_axis=0)(key, (4, 5))
  np.testing.assert_array_equal(nn.linear.default_embed_init(key, (4, 5)), expected)
