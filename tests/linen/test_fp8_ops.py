"""flaxen.linen.fp8_ops equals the reference's numerics bit for bit on CPU.

Each case below returns a pytree of results (quantized values, updated scales and amax
histories, forward outputs, gradients, and the parameters and FP8 meta after a few jitted
``TrainState`` steps). EXPECTED holds one hash per case, made by running this very file's
case code with the reference (flax 0.12.8, jax 0.10.2, CPU); see ``_digest``.
"""

import functools
import hashlib
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from jax import lax

from flaxen import linen as nn
from flaxen.linen import fp8_ops as f8
from flaxen.training import train_state

KEY = jax.random.key(0)
X = jax.random.normal(jax.random.key(1), (4, 8)) * 3
TARGET = jax.random.normal(jax.random.key(2), (4, 5))
W = jax.random.normal(jax.random.key(6), (8, 5))
HIST = jnp.arange(6.0)
FORMATS = (jnp.float8_e4m3fn, jnp.float8_e5m2, jnp.float8_e4m3fnuz, jnp.float8_e5m2fnuz)
DN = (((1,), (0,)), ((), ()))


def _plain(x):
  """fm32 values as float32 (numpy cannot hold extended dtypes)."""
  if str(getattr(x, "dtype", "")).startswith("fp8_meta"):
    return np.asarray(lax.convert_element_type(x, jnp.float32))
  return np.asarray(x)


def _digest(tree) -> str:
  """One short hash of the paths, dtypes, shapes and bytes of every leaf of ``tree``."""
  parts = []
  for path, leaf in jax.tree_util.tree_flatten_with_path(tree)[0]:
    a = np.ascontiguousarray(_plain(leaf))
    parts.append(f"{jax.tree_util.keystr(path)}={a.dtype}{a.shape}:"
                 + hashlib.sha1(a.tobytes()).hexdigest())
  return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:12]


# ----------------------------------------------------------------------------- functions


def case_quantize():
  out = {}
  for dt in FORMATS:
    name = jnp.dtype(dt).name
    out[name] = {
      "max": f8.get_fp8_max(dt, jnp.float32),
      "q": f8.quantize(X * 100, dt, jnp.array([0.5]), jnp.float32).astype(jnp.float32),
      "qdq": f8.qdq(X * 100, dt, jnp.array([0.7]), jnp.float32),
    }
  out["qdq_bf16"] = f8.qdq(X.astype(jnp.bfloat16), jnp.float8_e4m3fn, jnp.array([0.3]),
                           jnp.bfloat16)
  out["dequantize"] = f8.dequantize(X.astype(jnp.float8_e4m3fn), jnp.bfloat16, jnp.array([2.0]))
  return out


def case_meta_update():
  amax = jnp.array([0.0, 3.0, jnp.inf, jnp.nan, 1e-3])
  meta32 = functools.partial(lax.convert_element_type, new_dtype=f8.fm32)
  return {
    "scale": f8.compute_scale(amax, jnp.full(5, 0.25), 448.0),
    "scale_margin": f8.compute_scale(amax, jnp.full(5, 0.25), 448.0, margin=2),
    "history": f8.compute_amax_history(X, HIST),
    "update": f8.update_fp8_meta(X, jnp.float8_e4m3fn, jnp.array([1.0]), HIST),
    "update_fm32": f8.update_fp8_meta(X, jnp.float8_e4m3fn, meta32(jnp.array([1.0])),
                                      meta32(HIST)),
    "qdq_update": f8.quantize_dequantize_update(X, jnp.float8_e5m2, jnp.array([1.0]), HIST,
                                                jnp.float32),
  }


def case_transposes():
  lhs = jax.random.normal(jax.random.key(3), (2, 3, 4))
  rhs = jax.random.normal(jax.random.key(4), (2, 4, 5))
  g = jax.random.normal(jax.random.key(5), (2, 3, 5))
  kw = {"dimension_numbers": (((2,), (1,)), ((0,), (0,))), "precision": None,
        "preferred_element_type": None}
  return {"lhs": f8.dot_general_transpose_lhs(g, lhs, rhs, **kw),
          "rhs": f8.dot_general_transpose_rhs(g, lhs, rhs, **kw)}


def _in_qdq_loss(inp, scale, history):
  return jnp.sum(f8.in_qdq(jnp.float32, jnp.float8_e4m3fn, inp, scale, history) ** 2)


def _out_qdq_loss(out, scale, history):
  return jnp.sum(f8.out_qdq(jnp.float32, jnp.float8_e5m2, out, scale, history) * TARGET[:, :1])


def _precise_dot_loss(a, b):
  return jnp.sum(f8.dot_general_with_precision(a, b, DN) ** 2)


def _scaled_dot_loss(a, b, ls, rs, gs, lh, rh, gh):
  y = f8.fp8_scaled_dot_general(a, b, DN, preferred_element_type=jnp.float32, lhs_scale=ls,
                                rhs_scale=rs, grad_scale=gs, lhs_amax_history=lh,
                                rhs_amax_history=rh, grad_amax_history=gh)
  return jnp.sum(y * TARGET)


def _twice(scale, history, meta=False):
  if meta:  # as fm32, the two cotangents of each meta value combine with max
    scale = lax.convert_element_type(scale, f8.fm32)
    history = lax.convert_element_type(history, f8.fm32)
  a = f8.in_qdq(jnp.float32, jnp.float8_e4m3fn, X, scale, history)
  b = f8.in_qdq(jnp.float32, jnp.float8_e4m3fn, X * 5, scale, history)
  return jnp.sum(a) + jnp.sum(b)


def case_custom_gradients():
  one, hist = jnp.array([1.0]), jnp.array([4.0, 2.0, 0.0])
  return {
    "in_qdq": jax.grad(_in_qdq_loss, argnums=(0, 1, 2))(X, one, jnp.zeros(4)),
    "out_qdq": jax.grad(_out_qdq_loss, argnums=(0, 1, 2))(X, one, jnp.array([2.0, 1.0])),
    "precise_dot": jax.value_and_grad(_precise_dot_loss, argnums=(0, 1))(X, W),
    "scaled_dot": jax.value_and_grad(_scaled_dot_loss, argnums=tuple(range(8)))(
      X, W, one, one * 2, one * 0.5, hist, hist * 0.1, hist * 3),
    "twice_fm32": jax.jit(jax.grad(functools.partial(_twice, meta=True), argnums=(0, 1)))(
      one, HIST),
    "twice_f32": jax.grad(_twice, argnums=(0, 1))(one, HIST),
  }


# ----------------------------------------------------------------------------- modules


def _train(model, steps=3, tx=None, jit=True):
  variables = model.init(KEY, X)
  state = train_state.TrainState.create(apply_fn=model.apply, params=variables,
                                        tx=tx or optax.sgd(0.1))

  def step(state):
    def loss(params):
      return jnp.mean((state.apply_fn(params, X) - TARGET) ** 2)

    value, grads = jax.value_and_grad(loss)(state.params)
    return state.apply_gradients(grads=grads), value, grads

  step = jax.jit(step) if jit else step
  history = []
  for _ in range(steps):
    state, value, grads = step(state)
    history.append({"loss": value, "grads": grads, "params": state.params})
  return {"init": variables, "steps": history, "opt_state": state.opt_state}


class EinsumModel(nn.Module):
  @nn.compact
  def __call__(self, x):
    w = self.param("w", nn.initializers.lecun_normal(), (8, 5))
    return nn.Fp8Einsum(amax_history_length=3)("bi,io->bo", x, w)


class TwoLayers(nn.Module):
  @nn.compact
  def __call__(self, x):
    h = nn.relu(nn.Dense(6, dot_general_cls=nn.Fp8DirectDotGeneralOp)(x))
    return nn.Dense(5, dot_general_cls=nn.Fp8DotGeneralOp)(h)


def case_attention():
  # FP8 projections (direct and qdq) and FP8 einsums inside the attention layer
  model = nn.MultiHeadDotProductAttention(
    num_heads=2, qkv_features=8, qkv_dot_general_cls=nn.Fp8DirectDotGeneralOp,
    out_dot_general_cls=nn.Fp8DotGeneralOp,
    qk_attn_weights_einsum_cls=functools.partial(nn.Fp8Einsum, amax_history_length=5),
    attn_weights_value_einsum_cls=nn.Fp8Einsum)
  x = jax.random.normal(jax.random.key(1), (2, 4, 6))
  variables = model.init(KEY, x)
  grads = jax.grad(lambda v: jnp.sum(model.apply(v, x) ** 2))(variables)
  return {"vars": variables, "y": model.apply(variables, x), "grads": grads}


def _quiet(fn):
  """Runs ``fn`` without the (expected) Fp8DotGeneralOp DeprecationWarning."""

  @functools.wraps(fn)
  def run():
    with warnings.catch_warnings():
      warnings.simplefilter("ignore", DeprecationWarning)
      return fn()

  return run


CASES = {
  "quantize": case_quantize,
  "meta_update": case_meta_update,
  "transposes": case_transposes,
  "custom_gradients": case_custom_gradients,
  "dense_qdq": _quiet(lambda: _train(nn.Dense(5, dot_general_cls=nn.Fp8DotGeneralOp))),
  "dense_direct": lambda: _train(nn.Dense(5, dot_general_cls=nn.Fp8DirectDotGeneralOp)),
  "dense_nanoo": lambda: _train(nn.Dense(5, dot_general_cls=nn.NANOOFp8DotGeneralOp)),
  "dense_direct_adam": lambda: _train(nn.Dense(5, dot_general_cls=nn.Fp8DotGeneral),
                                      tx=optax.adam(1e-2)),
  "dense_bf16_qdq": _quiet(lambda: _train(
    nn.Dense(5, dtype=jnp.bfloat16, param_dtype=jnp.bfloat16,
             dot_general_cls=nn.Fp8DotGeneralOp), jit=False)),
  "dense_general_direct": lambda: _train(nn.DenseGeneral(
    (5,), axis=-1,
    dot_general_cls=functools.partial(nn.Fp8DirectDotGeneralOp, amax_history_length=4))),
  "einsum": lambda: _train(EinsumModel()),
  "two_layers": _quiet(lambda: _train(TwoLayers(), steps=4)),
  "attention": _quiet(case_attention),
}

EXPECTED = {
  'quantize': 'e2190175608b',
  'meta_update': '3b9e07455837',
  'transposes': '71935658fbc4',
  'custom_gradients': '2bf7879c922a',
  'dense_qdq': '290d46db23b3',
  'dense_direct': '02ebbd16cf2c',
  'dense_nanoo': 'b1afe22779c2',
  'dense_direct_adam': '83aa84e406aa',
  'dense_bf16_qdq': '68b81f5fb47e',
  'dense_general_direct': 'aee4100446f4',
  'einsum': 'a9c99c6496ea',
  'two_layers': '370ec0aed29a',
  'attention': '5f1e9156dd16',
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_reference(name):
  assert _digest(CASES[name]()) == EXPECTED[name]


def test_every_case_has_expected_values():
  assert set(EXPECTED) == set(CASES)


def _step_trace(dot_general_cls):
  @_quiet
  def text():
    model = nn.Dense(5, dot_general_cls=dot_general_cls)
    state = train_state.TrainState.create(apply_fn=model.apply, params=model.init(KEY, X),
                                          tx=optax.sgd(0.1))

    def step(state):
      grads = jax.grad(lambda p: jnp.mean((state.apply_fn(p, X) - TARGET) ** 2))(state.params)
      return state.apply_gradients(grads=grads)

    return str(jax.make_jaxpr(step)(state))

  return text


# A jitted FP8 train step traces to the reference's jaxpr op for op, so it runs the same
# kernels on any backend (TRACE_HASHES: the reference's, same code).
TRACES = {
  "step_qdq": _step_trace(nn.Fp8DotGeneralOp),
  "step_direct": _step_trace(nn.Fp8DirectDotGeneralOp),
}

TRACE_HASHES = {
  'step_qdq': '74432992721e',
  'step_direct': 'b8a959d3fa7c',
}


@pytest.mark.parametrize("name", list(TRACES))
def test_traces_equal_the_reference(name):
  assert hashlib.sha1(TRACES[name]().encode()).hexdigest()[:12] == TRACE_HASHES[name]
