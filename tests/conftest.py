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


# Multi-process tests start jax.distributed's coordinator on a port chosen here. A port that
# bind(0) handed out lies in the kernel's ephemeral range, and between choosing it and the
# coordinator listening on it (seconds: the workers import JAX first) any outgoing connection
# of a test running beside it may take it; the workers then wait for a coordinator that
# never comes. Ports below the ephemeral range are never handed out that way.
def _ephemeral_start() -> int:
  try:
    with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
      return int(f.read().split()[0])
  except (OSError, ValueError, IndexError):
    return 32768  # Linux's default; elsewhere the check below still applies


def coordinator_port() -> int:
  """A free TCP port on 127.0.0.1 outside the ephemeral range (random, so two tests differ)."""
  import random
  import socket

  top = _ephemeral_start()
  rng = random.SystemRandom()
  for _ in range(100 if top > 20001 else 0):
    port = rng.randrange(20000, top)
    with socket.socket() as s:
      try:
        s.bind(("127.0.0.1", port))
      except OSError:
        continue
      return port
  with socket.socket() as s:  # no room below the range: the kernel's choice
    s.bind(("127.0.0.1", 0))
    return s.getsockname()[1]


@pytest.fixture
def free_port() -> int:
  """A port for jax.distributed's coordinator (see ``coordinator_port``)."""
  return coordinator_port()


def wait_all(procs, timeout: float) -> list[str]:
  """Waits for every process; on a timeout kills them all and fails with their output."""
  import subprocess

  outs: list[str] = []
  try:
    for p in procs:
      outs.append(p.communicate(timeout=timeout)[0] or "")
  except subprocess.TimeoutExpired:
    for p in procs:
      if p.poll() is None:
        p.kill()
    tails = [(p.communicate()[0] or "")[-1500:] for p in procs[len(outs):]]
    pytest.fail(f"worker processes still running after {timeout} s; their output:\n"
                + "\n-----\n".join(outs + tails))
  return outs


@pytest.fixture
def wait_workers():
  """``wait_all`` as a fixture (tests import nothing from conftest)."""
  return wait_all
