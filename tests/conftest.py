"""Test configuration shared by the whole suite.

* 8 fake CPU devices, so sharding / pmap tests run on any laptop;
* numpy rank promotion raises, so no silent broadcast slips through a layer;
* warnings are errors (see pyproject's filterwarnings for the short ignore list).
"""

import os

_flags = os.environ.get("XLA_FLAGS", "")
if "xla_force_host_platform_device_count" not in _flags:
  _flags += " --xla_force_host_platform_device_count=8"
# The golden data was made on a CPU without native float16 arithmetic. On CPUs with
# AVX512-FP16, XLA computes float16 natively and rounds differently (the reference
# itself then misses `dense_param_dtype_f16` by one ulp), so cap the ISA at AVX2.
if "xla_cpu_max_isa" not in _flags:
  _flags += " --xla_cpu_max_isa=AVX2"
os.environ["XLA_FLAGS"] = _flags.strip()


def _cpu_has_avx512f() -> bool:
  try:
    with open("/proc/cpuinfo") as f:
      return any(line.startswith("flags") and " avx512f" in line for line in f)
  except OSError:
    return False


# Orthogonal initializers call LAPACK's QR through scipy's OpenBLAS, which picks its kernels
# by CPU model at load time. The golden data was made with OpenBLAS' SkylakeX kernels; on
# other AVX-512 CPUs (AMD Zen 4, for one) the default pick rounds the last bit differently,
# and the reference itself then misses the recurrent cells' hidden kernels. Pin the kernel
# family where the CPU can run it (it needs AVX-512F), before anything loads OpenBLAS. This
# overrides a machine-wide OPENBLAS_CORETYPE (some of our machines export Haswell).
if _cpu_has_avx512f():
  os.environ["OPENBLAS_CORETYPE"] = "SkylakeX"
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import jax  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")

import pathlib  # noqa: E402

import pytest  # noqa: E402

# The conformance data made with the reference travels with the repository (README and
# provenance inside); a checkout without it is broken, so the fixture fails, never skips.
GOLDEN_DIR = pathlib.Path(__file__).resolve().parent / "conformance" / "golden_data"


@pytest.fixture(scope="session")
def golden_dir() -> pathlib.Path:
  if not (GOLDEN_DIR / "cases.json").is_file():
    pytest.fail(f"conformance data missing: {GOLDEN_DIR} (it is part of the repository)")
  return GOLDEN_DIR
