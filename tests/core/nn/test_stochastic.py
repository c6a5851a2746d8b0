"""flaxen.core.nn.stochastic: dropout draws the reference's masks from the scope's streams."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import core
from flaxen.core import nn

X = jax.random.normal(jax.random.key(1), (4, 7)) + 2.0


def _explicit_key(scope, x):
  return nn.dropout(scope, x, 0.5, rng=jax.random.key(42))


CASES = {
  "dropout": (nn.dropout, (X, 0.3), {}, False),
  "dropout_high_rate": (nn.dropout, (X, 0.9), {}, False),
  "dropout_explicit_key": (_explicit_key, (X,), {}, False),
}

EXPECTED = {
  'dropout': ('e2e04b7248ec', '97d170e1550e', 'fffd33cde78a'),
  'dropout_high_rate': ('ec11103fc2b1', '97d170e1550e', '5c896355a5c7'),
  'dropout_explicit_key': ('8ff7649e694a', '97d170e1550e', '8ff7649e694a'),
}


@pytest.mark.parametrize("name", list(CASES))
def test_matches_reference(name, run_case):
  got = run_case(core, *CASES[name])
  assert (got["init"], got["vars"], got["apply"]) == EXPECTED[name]


def test_every_case_has_expected_values():
  assert set(EXPECTED) == set(CASES)


def test_kept_entries_are_rescaled():
  y = core.apply(nn.dropout)({}, X, 0.25, rngs={"dropout": jax.random.key(0)})
  kept = y != 0
  np.testing.assert_allclose(y[kept], X[kept] / 0.75, rtol=1e-6)
  assert 0 < int(kept.sum()) < X.size


@pytest.mark.parametrize("kwargs", [{"rate": 0.0}, {"rate": 0.5, "deterministic": True}])
def test_identity_cases_need_no_key(kwargs):
  # no 'dropout' (or 'params') stream is given: nothing may ask for one
  y = core.apply(nn.dropout)({}, X, **kwargs)
  assert y is X


def test_missing_stream_is_an_error():
  with pytest.raises(Exception, match="dropout"):
    core.apply(nn.dropout)({}, X, 0.5)


def test_each_call_draws_a_new_mask():
  def twice(scope, x):
    return nn.dropout(scope, x, 0.5), nn.dropout(scope, x, 0.5)

  a, b = core.apply(twice)({}, jnp.ones(64), rngs={"dropout": jax.random.key(0)})
  assert not np.array_equal(a, b)
