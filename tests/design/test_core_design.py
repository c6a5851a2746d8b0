"""Whole models written against the functional core: ``flaxen.core`` + ``core.nn`` + ``core.lift``.

These are the kinds of models the reference's functional-core design examples build: an
auto-encoder of ``scope.child`` MLPs, a tied auto-encoder (the decoder reuses the
encoder's kernel transposed via ``lift.map_variables``), weight standardisation, an
invertible flow, a deep ResNet scanned with ``lift.remat_scan``, a layer with a custom
gradient (``lift.custom_vjp`` + ``lift.vjp``), ensembles with ``lift.vmap``, an RNN and a
layer stack with ``lift.scan``, and a transformer block from ``core.nn`` layers.

For every model the variables after ``init``, the outputs, the mutated collections and the
gradients equal the reference's for the same keys, bit for bit: EXPECTED holds one hash of
each case's results, made by running this very file's model code with the reference
(flax 0.12.8, jax 0.10.2, CPU). Behavioural checks (invertibility, tied weights, custom
gradients, stacked shapes) come after.
"""

import dataclasses
import functools
import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.scipy.linalg import expm

from flaxen import core
from flaxen.core import lift, nn

KEY = jax.random.key(0)
X = jax.random.normal(jax.random.key(1), (4, 6))


def _digest(tree) -> str:
  """One short hash of the paths, dtypes, shapes and bytes of every leaf of ``tree``."""
  parts = []
  for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
    a = np.ascontiguousarray(np.asarray(leaf))
    parts.append(f"{jax.tree_util.keystr(path)}={a.dtype}{a.shape}:"
                 + hashlib.sha1(a.tobytes()).hexdigest())
  return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:12]


def _grads(fn, variables, *args, **apply_kwargs):
  """Gradient of ``sum(fn(...)**2)`` with respect to the params."""

  def loss(params):
    out = core.apply(fn, **apply_kwargs)({**variables, "params": params}, *args)
    if isinstance(out, tuple):
      out = out[0]
    return jnp.sum(out ** 2)

  return jax.grad(loss)(variables["params"])


# --------------------------------------------------------------------------- auto-encoders


def mlp(scope, x, sizes=(8, 4), act=nn.relu):
  for i, size in enumerate(sizes):
    x = scope.child(nn.dense, f"hidden_{i}")(x, size)
    if i + 1 < len(sizes):
      x = act(x)
  return x


@dataclasses.dataclass
class AutoEncoder:
  latents: int = 3
  features: int = 6
  hidden: int = 8

  def __call__(self, scope, x):
    return self.decode(scope, self.encode(scope, x))

  def encode(self, scope, x):
    return scope.child(mlp, "encoder")(x, (self.hidden, self.latents))

  def decode(self, scope, z):
    return scope.child(mlp, "decoder")(z, (self.hidden, self.features))


def _transpose_params(variables):
  return jax.tree_util.tree_map(lambda w: w.T, variables)


@dataclasses.dataclass
class TiedAutoEncoder:
  latents: int = 3
  features: int = 6

  def __call__(self, scope, x):
    return self.decode(scope, self.encode(scope, x))

  def encode(self, scope, x):
    return nn.dense(scope, x, self.latents, bias=False)

  def decode(self, scope, z):
    transposed = lift.map_variables(nn.dense, "params", _transpose_params, _transpose_params,
                                    mutable=True)
    return transposed(scope, z, self.features, bias=False)


def case_auto_encoder():
  model = AutoEncoder()
  y, variables = core.init(model)(KEY, X)
  z = core.apply(model.encode)(variables, X)
  return {"vars": variables, "y": y, "z": z, "grads": _grads(model, variables, X)}


def case_tied_auto_encoder():
  model = TiedAutoEncoder()
  y, variables = core.init(model)(KEY, X)
  return {"vars": variables, "y": y, "grads": _grads(model, variables, X)}


# --------------------------------------------------------------------------- weight std


def _standardize(x, axis, eps=1e-8):
  x = x - jnp.mean(x, axis=axis, keepdims=True)
  return x / jnp.sqrt(jnp.mean(jnp.square(x), axis=axis, keepdims=True) + eps)


def weight_std(fn, kernel_name="kernel", eps=1e-8):
  def std(variables):
    params = core.unfreeze(variables["params"])
    kernel = params[kernel_name]
    params[kernel_name] = _standardize(kernel, tuple(range(kernel.ndim - 1)), eps)
    return {"params": params}

  return lift.map_variables(fn, "params", std, init=True)


def std_mlp(scope, x):
  dense = weight_std(nn.dense)
  x = scope.child(dense, "hidden")(x, 8)
  return scope.child(dense, "out")(nn.relu(x), 2)


def case_weight_std():
  y, variables = core.init(std_mlp)(KEY, X)
  return {"vars": variables, "y": y, "grads": _grads(std_mlp, variables, X)}


# --------------------------------------------------------------------------- flows


@dataclasses.dataclass
class DenseFlow:
  kernel_init: Callable[..., Any] = nn.linear.default_kernel_init
  bias_init: Callable[..., Any] = nn.initializers.zeros_init()

  def params(self, scope, features):
    kernel = scope.param("kernel", self.kernel_init, (features, features))
    bias = scope.param("bias", self.bias_init, (features,))
    return kernel, bias

  def forward(self, scope, x):
    kernel, bias = self.params(scope, x.shape[-1])
    return jnp.dot(x, expm(kernel)) + bias.reshape((1,) * (x.ndim - 1) + (-1,))

  def backward(self, scope, y):
    kernel, bias = self.params(scope, y.shape[-1])
    return jnp.dot(y - bias.reshape((1,) * (y.ndim - 1) + (-1,)), expm(-kernel))


@dataclasses.dataclass
class StackFlow:
  flows: Sequence[DenseFlow]

  def forward(self, scope, x):
    for i, flow in enumerate(self.flows):
      x = scope.child(flow.forward, name=str(i))(x)
    return x

  def backward(self, scope, x):
    for i, flow in reversed(list(enumerate(self.flows))):
      x = scope.child(flow.backward, name=str(i))(x)
    return x


FLOW = StackFlow((DenseFlow(),) * 3)
FLOW_SUMS = [6.9046220779418945, 34.398033142089844]  # made with the reference


def case_flow():
  # expm solves through LAPACK, whose last bits depend on the CPU's BLAS kernels: the
  # exact comparison covers the variables, the values are checked in test_flow_*
  return {"vars": core.init(FLOW.forward)(KEY, X)[1]}


# --------------------------------------------------------------------------- big resnet


def residual_block(scope, x, conv, norm, act, features):
  residual = x
  x = scope.child(conv, "conv_1")(x, features, (3, 3))
  x = act(scope.child(norm, "bn_1")(x))
  x = scope.child(conv, "conv_2")(x, features, (3, 3))
  x = scope.child(norm, "bn_2")(x)
  return act(residual + x)


def big_resnet(scope, x, blocks=(2, 3), act=nn.relu):
  conv = functools.partial(nn.conv, bias=False)
  norm = functools.partial(nn.batch_norm, momentum=0.9)

  def body(scope, x):
    return residual_block(scope, x, conv, norm, act, features=x.shape[-1])

  scanned = lift.remat_scan(body, lengths=blocks,
                            variable_axes={"params": 0, "batch_stats": 0},
                            split_rngs={"params": True})
  return scanned(scope, x)


IMG = jax.random.normal(jax.random.key(2), (2, 6, 6, 3))


def case_big_resnet():
  y, variables = core.init(big_resnet)(KEY, IMG)
  y2, state = core.apply(big_resnet, mutable="batch_stats")(variables, IMG)
  grads = _grads(big_resnet, variables, IMG, mutable="batch_stats")
  return {"vars": variables, "y": y, "y2": y2, "state": state, "grads": grads}


# --------------------------------------------------------------------------- custom vjp


def _sign_grad_forward(scope, x, features):
  return lift.vjp(functools.partial(nn.dense, features=features), scope, x)


def _sign_grad_backward(features, vjp_fn, y_t):
  params_t, *inputs_t = vjp_fn(y_t)
  return (jax.tree_util.tree_map(jnp.sign, params_t), *inputs_t)


dense_sign_grad = lift.custom_vjp(nn.dense, forward_fn=_sign_grad_forward,
                                  backward_fn=_sign_grad_backward, nondiff_argnums=(2,))


def sign_grad_mlp(scope, x, sizes=(8, 1)):
  for i, size in enumerate(sizes):
    x = scope.child(dense_sign_grad, f"hidden_{i}")(x, size)
    if i + 1 < len(sizes):
      x = nn.relu(x)
  return x


def case_custom_vjp():
  y, variables = core.init(sign_grad_mlp)(KEY, X)
  return {"vars": variables, "y": y, "grads": _grads(sign_grad_mlp, variables, X)}


# --------------------------------------------------------------------------- vmap / scan


def ensemble(scope, x):
  members = lift.vmap(mlp, variable_axes={"params": 0}, split_rngs={"params": True},
                      in_axes=None, axis_size=3)
  return members(scope, x)


def per_example(scope, x):
  # one set of params for every example (broadcast), dropout keys split per example
  def body(scope, x):
    h = nn.dense(scope, x, 5)
    return nn.dropout(scope, h, 0.5)

  mapped = lift.vmap(body, variable_axes={"params": None}, split_rngs={"params": False,
                                                                       "dropout": True})
  return mapped(scope, x)


def case_vmap():
  y, variables = core.init(ensemble)(KEY, X)
  rngs = {"params": KEY, "dropout": jax.random.key(3)}
  y2, v2 = core.init(per_example)(rngs, X)
  y3 = core.apply(per_example)(v2, X, rngs={"dropout": jax.random.key(4)})
  return {"vars": variables, "y": y, "grads": _grads(ensemble, variables, X),
          "vars2": v2, "y2": y2, "y3": y3}


def rnn(scope, xs, hidden=5):
  def cell(scope, carry, x):
    h = jnp.tanh(scope.child(nn.dense, "ih")(x, hidden)
                 + scope.child(nn.dense, "hh")(carry, hidden, bias=False))
    return h, h

  scanned = lift.scan(cell, variable_broadcast="params", split_rngs={"params": False},
                      in_axes=1, out_axes=1)
  return scanned(scope, jnp.zeros((xs.shape[0], hidden)), xs)


def layer_stack(scope, x, depth=4):
  def layer(scope, carry, _):
    return nn.relu(nn.dense(scope, carry, carry.shape[-1])), None

  scanned = lift.scan(layer, variable_axes={"params": 0}, split_rngs={"params": True},
                      length=depth)
  return scanned(scope, x, None)[0]


SEQ = jax.random.normal(jax.random.key(5), (2, 7, 3))


def case_scan():
  (carry, ys), variables = core.init(rnn)(KEY, SEQ)
  y2, v2 = core.init(layer_stack)(KEY, X)
  return {"vars": variables, "carry": carry, "ys": ys, "grads": _grads(rnn, variables, SEQ),
          "vars2": v2, "y2": y2, "grads2": _grads(layer_stack, v2, X)}


# --------------------------------------------------------------------------- transformer


def transformer_block(scope, x, num_heads=2, deterministic=False):
  h = scope.child(nn.layer_norm, "ln_1")(x)
  h = scope.child(nn.multi_head_dot_product_attention, "attn")(
    h, None, num_heads=num_heads, causal_mask=True, dropout_rate=0.1,
    deterministic=deterministic)
  x = x + nn.dropout(scope, h, 0.1, deterministic=deterministic)
  h = scope.child(nn.layer_norm, "ln_2")(x)
  h = nn.gelu(scope.child(nn.dense, "mlp_in")(h, 4 * x.shape[-1]))
  return x + scope.child(nn.dense, "mlp_out")(h, x.shape[-1])


def language_model(scope, tokens, vocab=11, width=6, depth=2):
  embed = scope.child(nn.embedding, "embed")(vocab, width)
  x = embed.lookup(tokens)

  def layer(scope, carry, _):
    return transformer_block(scope, carry), None

  stack = lift.scan(layer, variable_axes={"params": 0}, split_rngs={"params": True,
                                                                    "dropout": True},
                    length=depth)
  x, _ = scope.child(stack, "blocks")(x, None)
  return embed.attend(scope.child(nn.layer_norm, "ln_f")(x))


TOKENS = jnp.array([[1, 4, 2, 9, 0], [3, 3, 10, 7, 5]])


def case_transformer():
  rngs = {"params": KEY, "dropout": jax.random.key(6)}
  y, variables = core.init(language_model)(rngs, TOKENS)
  jitted = jax.jit(lambda v, t, k: core.apply(language_model)(v, t, rngs={"dropout": k}))
  y2 = jitted(variables, TOKENS, jax.random.key(8))
  return {"vars": variables, "y": y, "y2": y2}


CASES = {
  "auto_encoder": case_auto_encoder,
  "tied_auto_encoder": case_tied_auto_encoder,
  "weight_std": case_weight_std,
  "flow": case_flow,
  "big_resnet": case_big_resnet,
  "custom_vjp": case_custom_vjp,
  "vmap": case_vmap,
  "scan": case_scan,
  "transformer": case_transformer,
}

EXPECTED = {
  'auto_encoder': '5926bbfb8bfb',
  'tied_auto_encoder': '01d4bd565887',
  'weight_std': '967424e7a201',
  'flow': '7c8d64de80f2',
  'big_resnet': 'f1a25c194ec6',
  'custom_vjp': '0dc4043a7d58',
  'vmap': '68061e2c9985',
  'scan': 'a0b84adb86e4',
  'transformer': '1d986ef29c4b',
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_reference(name):
  assert _digest(CASES[name]()) == EXPECTED[name]


def test_every_case_has_expected_values():
  assert set(EXPECTED) == set(CASES)


def test_flow_is_invertible_and_matches_reference_values():
  y, variables = core.init(FLOW.forward)(KEY, X)
  np.testing.assert_allclose(core.apply(FLOW.backward)(variables, y), X, rtol=1e-4, atol=1e-4)
  # the reference's sums of y and |y| for the same keys
  np.testing.assert_allclose([float(jnp.sum(y)), float(jnp.sum(jnp.abs(y)))], FLOW_SUMS,
                             rtol=1e-5)
  assert jax.tree_util.tree_map(jnp.shape, core.unfreeze(variables["params"])) == {
    str(i): {"kernel": (6, 6), "bias": (6,)} for i in range(3)}


def _shapes(variables):
  return jax.tree_util.tree_map(jnp.shape, core.unfreeze(variables))


def test_auto_encoder_structure():
  _, variables = core.init(AutoEncoder())(KEY, X)
  assert _shapes(variables)["params"] == {
    "encoder": {"hidden_0": {"kernel": (6, 8), "bias": (8,)},
                "hidden_1": {"kernel": (8, 3), "bias": (3,)}},
    "decoder": {"hidden_0": {"kernel": (3, 8), "bias": (8,)},
                "hidden_1": {"kernel": (8, 6), "bias": (6,)}},
  }


def test_tied_auto_encoder_shares_one_kernel():
  model = TiedAutoEncoder()
  y, variables = core.init(model)(KEY, X)
  assert _shapes(variables) == {"params": {"kernel": (6, 3)}}
  kernel = variables["params"]["kernel"]
  np.testing.assert_allclose(y, (X @ kernel) @ kernel.T, rtol=1e-5, atol=1e-6)


def test_weight_std_kernels_are_standardised_in_use():
  seen = []

  def spy(scope, x, features):
    seen.append(scope.get_variable("params", "kernel"))
    return nn.dense(scope, x, features)

  core.init(weight_std(spy))(KEY, X, 4)
  kernel = seen[-1]
  np.testing.assert_allclose(kernel.mean(0), np.zeros(4), atol=1e-6)
  np.testing.assert_allclose((kernel ** 2).mean(0), np.ones(4), rtol=1e-4)


def test_big_resnet_stacks_parameters_per_scan_level():
  _, variables = core.init(big_resnet)(KEY, IMG)
  shapes = _shapes(variables)
  assert shapes["params"]["conv_1"]["kernel"] == (2, 3, 3, 3, 3, 3)
  assert shapes["batch_stats"]["bn_2"]["mean"] == (2, 3, 3)
  # every block starts with its own kernel
  kernels = variables["params"]["conv_1"]["kernel"].reshape(6, -1)
  assert len({tuple(np.asarray(k).round(6)) for k in kernels}) == 6


def test_custom_vjp_replaces_parameter_gradients_by_their_sign():
  _, variables = core.init(sign_grad_mlp)(KEY, X)
  grads = _grads(sign_grad_mlp, variables, X)
  for g in jax.tree_util.tree_leaves(grads):
    assert set(np.unique(np.asarray(g))) <= {-1.0, 0.0, 1.0}
  # without a derivative the plain dense runs
  np.testing.assert_array_equal(core.apply(sign_grad_mlp)(variables, X),
                                core.apply(mlp, )(variables, X, (8, 1)))


def test_vmap_ensemble_has_one_member_per_index():
  y, variables = core.init(ensemble)(KEY, X)
  assert y.shape == (3, 4, 4)
  assert _shapes(variables)["params"]["hidden_0"]["kernel"] == (3, 6, 8)
  assert not np.allclose(y[0], y[1])
  _, v2 = core.init(per_example)({"params": KEY, "dropout": KEY}, X)
  assert _shapes(v2)["params"] == {"kernel": (6, 5), "bias": (5,)}


def test_scan_broadcasts_or_stacks_parameters():
  (carry, ys), variables = core.init(rnn)(KEY, SEQ)
  assert carry.shape == (2, 5) and ys.shape == (2, 7, 5)
  np.testing.assert_array_equal(ys[:, -1], carry)
  assert _shapes(variables)["params"] == {"ih": {"kernel": (3, 5), "bias": (5,)},
                                          "hh": {"kernel": (5, 5)}}
  _, v2 = core.init(layer_stack)(KEY, X)
  assert _shapes(v2)["params"] == {"kernel": (4, 6, 6), "bias": (4, 6)}


def test_transformer_parameters_and_dropout():
  rngs = {"params": KEY, "dropout": jax.random.key(6)}
  _, variables = core.init(language_model)(rngs, TOKENS)
  blocks = _shapes(variables)["params"]["blocks"]
  assert blocks["attn"]["query"]["kernel"] == (2, 6, 2, 3)
  assert blocks["mlp_in"]["kernel"] == (2, 6, 24)
  a = core.apply(language_model)(variables, TOKENS, rngs={"dropout": jax.random.key(1)})
  b = core.apply(language_model)(variables, TOKENS, rngs={"dropout": jax.random.key(2)})
  assert a.shape == (2, 5, 11) and not np.allclose(a, b)
