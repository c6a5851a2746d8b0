"""How tabulate represents recorded values (arrays by shape/dtype, other values as is)."""

import dataclasses
import enum

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import linen as nn
from flaxen._src.linen import summary_values as sv


def test_leaves():
  assert sv.represent_leaf(jnp.ones((2, 3))).render() == "[dim]float32[/dim][2,3]"
  assert sv.represent_leaf(jax.ShapeDtypeStruct((4,), jnp.bfloat16)).render() == (
    "[dim]bfloat16[/dim][4]")
  assert sv.represent_leaf(np.float32(2.5)).render() == "[dim]float32[/dim][]"
  for obj in (3, 2.5, True, None, "abc", np.float64(1.5)):
    rep = sv.represent_leaf(obj)
    assert isinstance(rep, sv.ObjectRepresentation) and rep.render() == repr(obj)


def test_partitioned_boxes_keep_their_names():
  box = nn.Partitioned(jnp.ones((2, 3)), ("data", None))
  rep = sv.represent_tree({"k": box})["k"]
  assert rep.render() == "[dim]float32[/dim][2,3] [dim]P[/dim]('data', None)"
  assert sv.unrepresent(rep) == jax.ShapeDtypeStruct((2, 3), jnp.float32)


class Color(enum.Enum):
  RED = "red"


def test_enums_are_objects_and_print_by_value_as_keys():
  rep = sv.represent_tree((Color.RED,))
  assert rep[0].render() == "<Color.RED: 'red'>"
  assert sv.normalize_structure({Color.RED: 1}) == {"red": 1}
  assert sv.unrepresent(rep[0]) is Color.RED


def test_normalize_structure():
  @dataclasses.dataclass
  class Pair:
    a: int
    b: tuple

  assert sv.normalize_structure([1, Pair(2, (3, [4]))]) == (1, {"a": 2, "b": (3, (4,))})


def test_unrepresent_rejects_other_values():
  with pytest.raises(TypeError):
    sv.unrepresent(3)


def test_size_and_bytes():
  tree = {"a": jnp.ones((2, 3)), "b": jax.ShapeDtypeStruct((4,), jnp.bfloat16), "c": 3}
  assert sv.size_and_bytes(tree) == (10, 32)
