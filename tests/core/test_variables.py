"""Variable handles read through the scope and write through put_variable."""

import jax.numpy as jnp
import pytest

from flaxen import errors
from flaxen.core import Scope


def test_value_roundtrip_and_is_mutable():
  s = Scope({"state": {"x": jnp.zeros(2)}}, mutable=["state"])
  v = s.variable("state", "x")
  v.value = v.value + 1
  assert float(s.get_variable("state", "x")[0]) == 1.0
  assert v.is_mutable()
  assert "state" in repr(v) and "x" in repr(v)


def test_immutable_write_raises():
  s = Scope({"state": {"x": 1}})
  v = s.variable("state", "x")
  assert not v.is_mutable() and v.value == 1
  with pytest.raises(errors.ModifyScopeVariableError, match='"x"'):
    v.value = 2
