"""flaxen.linen.fp8_ops: variables, delayed-scaling semantics, warnings, the fm32 dtype."""

import functools
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

X = jax.random.normal(jax.random.key(1), (4, 8)) * 3
OWG = "_overwrite_with_gradient"
META_NAMES = ["input_amax_history", "kernel_amax_history", "output_grad_amax_history",
              "input_scale", "kernel_scale", "output_grad_scale"]


def test_public_surface():
  names = """
    CAN_USE_EARRAY DType DTypeLike Fp8DirectDotGeneralOp Fp8DotGeneral Fp8DotGeneralBase
    Fp8DotGeneralOp Fp8Einsum Fp8MetaTyRules NANOOFp8DotGeneralOp OVERWRITE_WITH_GRADIENT
    compute_amax_history compute_scale custom_jvp custom_vjp dequantize
    dot_general_transpose_lhs dot_general_transpose_rhs dot_general_with_precision
    dot_general_with_precision_jvp fm32 fp32_max_grad fp8_meta_dtype fp8_meta_dtype_wrapper
    fp8_scaled_dot_general get_fp8_max in_q in_q_bwd in_q_fwd in_qdq in_qdq_bwd in_qdq_fwd
    initializers module out_dq out_dq_bwd out_dq_fwd out_qdq out_qdq_bwd out_qdq_fwd qdq
    quantize quantize_dequantize_update quantized_dot quantized_dot_bwd quantized_dot_fwd
    update_fp8_meta
  """.split()
  assert [n for n in names if not hasattr(f8, n)] == []
  assert f8.OVERWRITE_WITH_GRADIENT == OWG == train_state.OVERWRITE_WITH_GRADIENT
  assert f8.Fp8DotGeneral is f8.Fp8DirectDotGeneralOp
  for name in ("Fp8DirectDotGeneralOp", "Fp8DotGeneral", "Fp8DotGeneralOp", "Fp8Einsum",
               "NANOOFp8DotGeneralOp"):
    assert getattr(nn, name) is getattr(f8, name)
  assert nn.fp8_ops is f8


def test_meta_variables_in_dense():
  variables = nn.Dense(3, dot_general_cls=nn.Fp8DirectDotGeneralOp).init(jax.random.key(0), X)
  assert list(variables) == ["params", OWG]
  meta = variables[OWG]["Fp8DirectDotGeneralOp_0"]
  assert list(meta) == META_NAMES
  for name in META_NAMES:
    expected = jnp.ones(1) if name.endswith("scale") else jnp.zeros(1024)
    np.testing.assert_array_equal(meta[name], expected)
    assert meta[name].dtype == jnp.float32


def test_amax_history_length_and_formats():
  op = f8.NANOOFp8DotGeneralOp(amax_history_length=7)
  assert op.e4m3_dtype == jnp.float8_e4m3fnuz and op.e5m2_dtype == jnp.float8_e5m2fnuz
  base = f8.Fp8DirectDotGeneralOp()
  assert base.e4m3_dtype == jnp.float8_e4m3fn and base.e5m2_dtype == jnp.float8_e5m2
  variables = nn.Dense(3, dot_general_cls=functools.partial(
    f8.Fp8DirectDotGeneralOp, amax_history_length=7)).init(jax.random.key(0), X)
  assert variables[OWG]["Fp8DirectDotGeneralOp_0"]["input_amax_history"].shape == (7,)


def test_only_the_qdq_op_itself_is_deprecated():
  with pytest.warns(DeprecationWarning, match="The Fp8DotGeneralOp is deprecated. Use "
                                              "Fp8DirectDotGeneralOp or Fp8Einsum instead."):
    f8.Fp8DotGeneralOp()
  with warnings.catch_warnings():
    warnings.simplefilter("error")
    f8.NANOOFp8DotGeneralOp()
    f8.Fp8DirectDotGeneralOp()
    f8.Fp8Einsum()


def test_precision_arguments_are_ignored_with_a_warning():
  one = jnp.ones(1)
  with pytest.warns(UserWarning, match='The function fp8_scaled_dot_general will set the '
                                       '"precision" and disregard any provided "precision" '
                                       'argument.'):
    f8.fp8_scaled_dot_general(X, X.T, (((1,), (0,)), ((), ())), lax.Precision.HIGHEST,
                              jnp.float32, lhs_scale=one, rhs_scale=one, grad_scale=one,
                              lhs_amax_history=one, rhs_amax_history=one, grad_amax_history=one)
  with pytest.warns(UserWarning, match="The function dot_general_with_precision will set the "
                                       "precision/preferred_element_type and disregard any "
                                       "provided values."):
    f8.dot_general_with_precision(X, X.T, (((1,), (0,)), ((), ())), lax.Precision.HIGHEST)


def _step(model, steps=1):
  variables = model.init(jax.random.key(0), X)
  state = train_state.TrainState.create(apply_fn=model.apply, params=variables,
                                        tx=optax.sgd(0.1))

  @jax.jit
  def step(state):
    grads = jax.grad(lambda p: jnp.sum(state.apply_fn(p, X) ** 2))(state.params)
    return state.apply_gradients(grads=grads)

  for _ in range(steps):
    state = step(state)
  return state


def test_train_step_overwrites_meta_with_delayed_scales():
  model = nn.Dense(3, use_bias=False, dot_general_cls=functools.partial(
    nn.Fp8DirectDotGeneralOp, amax_history_length=4))
  state = _step(model)
  meta = state.params[OWG]["Fp8DirectDotGeneralOp_0"]
  # the history records max|x| at the front ...
  np.testing.assert_allclose(meta["input_amax_history"], [jnp.max(jnp.abs(X)), 0, 0, 0])
  # ... but the scale used was computed from the old (all-zero) history: it stays 1
  np.testing.assert_array_equal(meta["input_scale"], [1.0])
  state = _step(model, steps=2)
  meta = state.params[OWG]["Fp8DirectDotGeneralOp_0"]
  e4m3_max = float(jnp.finfo(jnp.float8_e4m3fn).max)
  np.testing.assert_allclose(meta["input_scale"], [jnp.max(jnp.abs(X)) / e4m3_max], rtol=1e-6)


def test_quantize_clips_to_the_format_range():
  big = jnp.array([1e6, -1e6, 3.0])
  q = f8.quantize(big, jnp.float8_e4m3fn, jnp.array([1.0]), jnp.float32)
  assert q.dtype == jnp.float8_e4m3fn
  np.testing.assert_array_equal(q.astype(jnp.float32), [448.0, -448.0, 3.0])
  np.testing.assert_array_equal(f8.qdq(big, jnp.float8_e5m2, jnp.array([2.0]), jnp.float32),
                                [114688.0, -114688.0, 3.0])


def test_get_fp8_max():
  assert float(f8.get_fp8_max(jnp.float8_e4m3fn, jnp.float32)) == 448.0
  assert float(f8.get_fp8_max(jnp.float8_e5m2, jnp.float32)) == 57344.0
  with pytest.raises(AssertionError):
    f8.get_fp8_max(jnp.float16, jnp.float32)


def test_compute_scale_keeps_the_old_scale_without_a_usable_amax():
  amax = jnp.array([0.0, jnp.inf, jnp.nan, 448.0 * 3])
  np.testing.assert_allclose(f8.compute_scale(amax, jnp.full(4, 0.5), 448.0),
                             [0.5, 0.5, 0.5, 3.0])
  np.testing.assert_allclose(f8.compute_scale(jnp.array([448.0]), 1.0, 448.0, margin=1), [2.0])


def test_compute_amax_history_rolls():
  got = f8.compute_amax_history(jnp.array([-7.0, 2.0]), jnp.array([1.0, 2.0, 3.0]))
  np.testing.assert_array_equal(got, [7.0, 3.0, 1.0])


def test_fm32_dtype():
  assert repr(f8.fm32) == "fp8_meta32" and f8.fm32.name == "fp8_meta32"
  assert f8.fm32 == f8.fp32_max_grad
  assert jnp.issubdtype(f8.fm32, f8.fp8_meta_dtype)
  assert jnp.issubdtype(f8.fm32, jax.dtypes.extended)
  roundtrip = jax.jit(lambda x: lax.convert_element_type(
    lax.convert_element_type(x, f8.fm32), jnp.float32) * 2)
  np.testing.assert_array_equal(roundtrip(jnp.ones(3)), 2 * jnp.ones(3))
  made = jax.jit(lambda: lax.convert_element_type(jnp.arange(3.0), f8.fm32))()
  assert made.dtype == f8.fm32 and made.shape == (3,)
  with pytest.raises(ValueError, match="Cannot convert_element_type from int32 to fp8_meta32"):
    lax.convert_element_type(jnp.ones(3, jnp.int32), f8.fm32)


def _twice(scale, history, meta):
  if meta:
    scale = lax.convert_element_type(scale, f8.fm32)
    history = lax.convert_element_type(history, f8.fm32)
  a = f8.in_qdq(jnp.float32, jnp.float8_e4m3fn, X, scale, history)
  b = f8.in_qdq(jnp.float32, jnp.float8_e4m3fn, X * 5, scale, history)
  return jnp.sum(a) + jnp.sum(b)


def test_fm32_cotangents_combine_with_max():
  history = jnp.zeros(3)
  one = jnp.ones(1)
  _, summed = jax.grad(functools.partial(_twice, meta=False), argnums=(0, 1))(one, history)
  _, maxed = jax.jit(jax.grad(functools.partial(_twice, meta=True), argnums=(0, 1)))(one,
                                                                                    history)
  amax = float(jnp.max(jnp.abs(X)))
  np.testing.assert_allclose(summed, [amax + 5 * amax, 0, 0], rtol=1e-6)
  np.testing.assert_allclose(maxed, [5 * amax, 0, 0], rtol=1e-6)


def test_fp8_einsum_matches_a_plain_einsum_closely():
  w = jax.random.normal(jax.random.key(3), (8, 5))
  y, _ = nn.Fp8Einsum().init_with_output(jax.random.key(0), "bi,io->bo", X, w)
  np.testing.assert_allclose(y, X @ w, rtol=0.15, atol=0.5)
