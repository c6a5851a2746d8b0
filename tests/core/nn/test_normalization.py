"""flaxen.core.nn.normalization: batch_norm, layer_norm and group_norm.

Values (outputs, parameters, running statistics after an update) equal the reference's
``flax.core.nn`` bit for bit (hashes in EXPECTED, made with the reference; see conftest.py).
"""

import hashlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import core
from flaxen.core import nn

X = jax.random.normal(jax.random.key(1), (2, 5, 6)) * 3.0 + 1.0
IMG = jax.random.normal(jax.random.key(2), (2, 8, 8, 4)) * 2.0 - 0.5

# name -> (fn, args, kwargs, mutable)
CASES = {
  "batch_norm": (nn.batch_norm, (IMG,), {}, "batch_stats"),
  "batch_norm_axes": (nn.batch_norm, (IMG,), {
    "axis": (1, -1), "momentum": 0.9, "bias": False}, "batch_stats"),
  "batch_norm_running": (nn.batch_norm, (IMG,), {
    "use_running_average": True, "dtype": jnp.bfloat16}, False),
  "batch_norm_kind": (nn.batch_norm, (X,), {
    "kind": "stats", "scale": False, "epsilon": 1e-3}, "stats"),
  "layer_norm": (nn.layer_norm, (X,), {}, False),
  "layer_norm_options": (nn.layer_norm, (X,), {
    "scale": False, "epsilon": 1e-3, "dtype": jnp.bfloat16}, False),
  "group_norm": (nn.group_norm, (IMG,), {"num_groups": 2}, False),
  "group_norm_size": (nn.group_norm, (IMG,), {
    "num_groups": None, "group_size": 1, "bias": False, "dtype": jnp.bfloat16}, False),
}

EXPECTED = {
  'batch_norm': ('67609978b211', '6fd82f9a7756', 'fdf99b3f3711'),
  'batch_norm_axes': ('35479a8142ee', '98b04a20bd49', 'f002eccc4e1a'),
  'batch_norm_running': ('0b66e8933dda', '6fd82f9a7756', '0b66e8933dda'),
  'batch_norm_kind': ('aa53aa6ec0f4', 'f226e821fbeb', '7d89e7d44c33'),
  'layer_norm': ('eba4dcfeb8e1', '945ec6c6b856', 'eba4dcfeb8e1'),
  'layer_norm_options': ('a0af9f76dd28', '4a348dc1bd18', 'a0af9f76dd28'),
  'group_norm': ('040a8701c2fb', '27ca0de5d714', '040a8701c2fb'),
  'group_norm_size': ('1c2015082956', '349faac08d4f', '1c2015082956'),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_reference(name, run_case):
  got = run_case(core, *CASES[name])
  assert (got["init"], got["vars"], got["apply"]) == EXPECTED[name]


def test_every_case_has_expected_values():
  assert set(EXPECTED) == set(CASES)


def test_batch_norm_variables_and_update_rule():
  y, v = core.init(nn.batch_norm)(jax.random.key(0), IMG)
  assert jax.tree_util.tree_map(jnp.shape, {k: dict(c) for k, c in v.items()}) == {
    "batch_stats": {"mean": (4,), "var": (4,)}, "params": {"scale": (4,), "bias": (4,)}}
  # the call that creates the statistics leaves them at zeros / ones
  np.testing.assert_array_equal(v["batch_stats"]["mean"], jnp.zeros(4))
  np.testing.assert_array_equal(v["batch_stats"]["var"], jnp.ones(4))
  _, state = core.apply(nn.batch_norm, mutable="batch_stats")(v, IMG, momentum=0.5)
  batch_mean = IMG.mean((0, 1, 2))
  np.testing.assert_allclose(state["batch_stats"]["mean"], 0.5 * batch_mean, rtol=1e-5)
  # normalized output: zero mean, unit variance per channel
  np.testing.assert_allclose(y.mean((0, 1, 2)), jnp.zeros(4), atol=1e-5)
  np.testing.assert_allclose(y.var((0, 1, 2)), jnp.ones(4), rtol=1e-3)


def test_batch_norm_running_average_needs_no_mutable_collection():
  _, v = core.init(nn.batch_norm)(jax.random.key(0), IMG)
  y = core.apply(nn.batch_norm)(v, IMG, use_running_average=True)
  expected = IMG / jnp.sqrt(1.0 + 1e-5)  # mean 0, var 1, scale 1, bias 0
  np.testing.assert_allclose(y, expected, rtol=1e-6)


def test_batch_norm_averages_over_a_mapped_axis():
  def per_device(scope, x):
    return nn.batch_norm(scope, x, axis_name="batch")

  vmapped = core.lift.vmap(per_device, variable_axes={True: None}, split_rngs={"params": False},
                           axis_name="batch")
  _, v = core.init(vmapped)(jax.random.key(0), IMG)
  (y, state) = core.apply(vmapped, mutable="batch_stats")(v, IMG)
  # statistics are shared across the mapped batch axis: one set of running averages
  assert state["batch_stats"]["mean"].shape == (4,)
  np.testing.assert_allclose(y.mean((0, 1, 2)), jnp.zeros(4), atol=1e-5)


def test_layer_norm_parameters():
  y, v = core.init(nn.layer_norm)(jax.random.key(0), X)
  assert jax.tree_util.tree_map(jnp.shape, dict(v["params"])) == {"scale": (6,), "bias": (6,)}
  np.testing.assert_allclose(y.mean(-1), jnp.zeros((2, 5)), atol=1e-5)
  assert not core.init(nn.layer_norm)(jax.random.key(0), X, bias=False, scale=False)[1]


def test_group_norm_parameters_have_a_broadcast_shape():
  _, v = core.init(nn.group_norm)(jax.random.key(0), IMG, num_groups=2)
  assert jax.tree_util.tree_map(jnp.shape, dict(v["params"])) == {
    "scale": (1, 1, 1, 4), "bias": (1, 1, 1, 4)}


def test_group_norm_errors():
  with pytest.raises(ValueError, match="Either `num_groups` or `group_size` should be "
                                       "specified, but not both of them."):
    core.init(nn.group_norm)(jax.random.key(0), IMG, num_groups=2, group_size=2)
  with pytest.raises(ValueError, match="Either `num_groups` or `group_size`"):
    core.init(nn.group_norm)(jax.random.key(0), IMG, num_groups=None)
  with pytest.raises(ValueError, match=r"Number of channels \(4\) is not multiple of the "
                                       r"group size \(3\)\."):
    core.init(nn.group_norm)(jax.random.key(0), IMG, num_groups=None, group_size=3)


def _trace(fn, *args, **kwargs):
  def text():
    _, v = core.init(fn)(jax.random.key(0), *args, **kwargs)
    return str(jax.make_jaxpr(
      lambda v: core.apply(fn, mutable=True)(v, *args, **kwargs))(v))

  return text


# Applying these layers traces to the reference's jaxpr, op for op (TRACE_HASHES: the
# reference's, same code); layer_norm keeps its implicit rank promotion local, so it also
# runs under this suite's jax_numpy_rank_promotion='raise'.
TRACES = {
  "batch_norm": _trace(nn.batch_norm, IMG, axis=(1, -1), momentum=0.9),
  "layer_norm_bf16": _trace(nn.layer_norm, X.astype(jnp.bfloat16), dtype=jnp.float32),
  "group_norm": _trace(nn.group_norm, IMG, num_groups=2),
}

TRACE_HASHES = {
  'batch_norm': '48fca911e108',
  'layer_norm_bf16': '1af830219be5',
  'group_norm': '07725acacda2',
}


@pytest.mark.parametrize("name", list(TRACES))
def test_traces_equal_the_reference(name):
  assert hashlib.sha1(TRACES[name]().encode()).hexdigest()[:12] == TRACE_HASHES[name]
