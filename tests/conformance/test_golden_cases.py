"""Every case of tests/conformance/golden_data (layer, function, model, rng, transform groups).

Each case rebuilds the module (or function) from its spec, runs init/apply with
flaxen and compares the variable tree (order, shapes, dtypes), the values (params
exactly), the outputs and mutated collections (within the recorded tolerance),
the container structures, and the exact ``to_bytes(variables)``.
"""

import golden
import jax
import pytest

CASES = golden.load_cases()  # raises if the data is missing: never a silent skip


def test_jax_version_matches_golden():
  # The golden values were produced on this jax; other versions change PRNG bits.
  assert jax.__version__ == golden.GOLDEN_JAX, "install with `make` (constraints.txt pins jax)"


def test_all_groups_present():
  groups = {c["group"] for c in CASES.values()}
  assert groups == {"layer", "function", "model", "rng", "transform"}
  assert len(CASES) == 172


@pytest.mark.parametrize("name", list(CASES), ids=lambda n: f"{CASES[n]['group']}-{n}")
def test_golden_case(name):
  if jax.__version__ != golden.GOLDEN_JAX:
    pytest.skip(f"golden values need jax {golden.GOLDEN_JAX}; see test_jax_version_matches_golden")
  problems = golden.run_case(name)
  assert not problems, "\n".join(problems)
