"""FLOPs of recorded calls from XLA's cost analysis (tabulate's flops/vjp_flops columns)."""

import jax
import jax.numpy as jnp

from flaxen import linen as nn
from flaxen._src.linen import summary_flops


def test_lowered_flops_of_a_matmul():
  a = jax.ShapeDtypeStruct((16, 9), jnp.float32)
  b = jax.ShapeDtypeStruct((9, 4), jnp.float32)
  assert summary_flops.lowered_flops(jnp.matmul, a, b) == 2 * 16 * 9 * 4


def test_lowered_flops_without_arithmetic_is_zero():
  assert summary_flops.lowered_flops(lambda x: x, jax.ShapeDtypeStruct((3,), jnp.float32)) == 0


def _rows(module, *args, **kw):
  return nn.summary.module_summary(module, jax.random.key(0), *args, **kw)


def test_dense_flops_count_matmul_and_bias():
  (row,) = _rows(nn.Dense(4), jnp.ones((16, 9)), compute_flops=True, compute_vjp_flops=True)
  assert row.flops == 2 * 16 * 9 * 4 + 16 * 4  # 1216, as the reference reports
  assert row.vjp_flops == 3620


def test_flops_only_when_asked():
  (row,) = _rows(nn.Dense(4), jnp.ones((16, 9)))
  assert (row.flops, row.vjp_flops) == (-1, -1)


def test_non_array_arguments_stay_static():
  class Scaled(nn.Module):
    @nn.compact
    def __call__(self, x, times: int, tag: str):
      for _ in range(times):
        x = nn.Dense(9)(x)
      return x

  once, twice = (_rows(Scaled(), jnp.ones((2, 9)), n, "t", compute_flops=True)[0].flops
                 for n in (1, 2))
  assert twice == 2 * once > 0
