"""Collection filters: matching, set algebra and invalid filters."""

import pytest

from flaxen import errors
from flaxen.core import DenyList
from flaxen.core.scope import (
  filter_to_set,
  group_collections,
  in_filter,
  intersect_filters,
  subtract_filters,
  union_filters,
)


@pytest.mark.parametrize(
  "f, col, expected",
  [
    (True, "params", True),
    (False, "params", False),
    ("params", "params", True),
    ("params", "batch_stats", False),
    (["params", "cache"], "cache", True),
    (("params",), "cache", False),
    ({"a"}, "a", True),
    (DenyList("intermediates"), "params", True),
    (DenyList("intermediates"), "intermediates", False),
    (DenyList(["a", "b"]), "b", False),
    (DenyList(True), "x", False),
  ],
)
def test_in_filter(f, col, expected):
  assert in_filter(f, col) is expected


def test_invalid_filter_raises():
  with pytest.raises(errors.InvalidFilterError, match="Invalid Filter"):
    in_filter(3, "params")


def test_denylist_is_hashable_and_equal():
  assert DenyList(["a"]) == DenyList(("a",))
  assert hash(DenyList(["a"])) == hash(DenyList(("a",)))


def test_union_intersect_subtract_return_what_the_reference_returns():
  # two finite filters give a set, as the reference's (not a tuple, not simplified)
  assert union_filters(["a", "b"], ["b", "c"]) == {"a", "b", "c"}
  assert type(union_filters("a", "b")) is set
  assert union_filters(False, False) == set()
  assert intersect_filters(["a", "b"], ["b", "c"]) == {"b"}
  assert intersect_filters(False, False) == set()
  assert subtract_filters(["a", "b"], ["b", "c"]) == {"a"}
  # True short-cuts: the other operand comes back as it is
  assert union_filters(True, "b") is True
  operand = ["x", "y"]
  assert intersect_filters(True, operand) is operand
  assert intersect_filters(True, False) is False
  assert subtract_filters("a", True) is False
  assert subtract_filters(True, False) == DenyList(False)
  assert subtract_filters(True, "a") == DenyList("a")
  # DenyLists are combined, not simplified
  assert union_filters(DenyList(["a", "b"]), DenyList(["b", "c"])) == DenyList({"b"})
  assert union_filters(["b", "c"], DenyList(["a", "b"])) == DenyList({"a"})
  assert union_filters(DenyList("intermediates"), "intermediates") == DenyList(set())
  assert intersect_filters(DenyList(["a", "b"]), DenyList(["b", "c"])) == DenyList({"a", "b", "c"})
  assert intersect_filters(["b", "c"], DenyList(["a", "b"])) == {"c"}
  assert subtract_filters(DenyList(["a", "b"]), DenyList(["b", "c"])) == {"c"}
  assert subtract_filters(DenyList(["a", "b"]), ["b", "c"]) == DenyList({"a", "b", "c"})
  f = union_filters(DenyList("a"), DenyList(["a", "b"]))
  assert in_filter(f, "b") and not in_filter(f, "a")


def test_denylist_of_a_set_is_hashable_and_equals_the_set_form():
  d = DenyList({"a", "b"})
  assert hash(d) == hash(DenyList(frozenset({"b", "a"})))
  assert d == DenyList({"b", "a"}) and d != DenyList(["a", "b"])


def test_filter_to_set_and_group():
  assert filter_to_set(["a", "b"]) == {"a", "b"}
  assert filter_to_set(False) == set()
  assert filter_to_set("a") == {"a"}
  for infinite in (True, DenyList("a")):
    # the reference asserts: AssertionError; flaxen's error is also a ValueError
    with pytest.raises(AssertionError, match="Infinite set"):
      filter_to_set(infinite)
    with pytest.raises(ValueError):
      filter_to_set(infinite)
  with pytest.raises(errors.InvalidFilterError):
    filter_to_set(3)
  xs = {"params": 1, "batch_stats": 2, "cache": 3}
  g1, g2, g3 = group_collections(xs, ["params", True, True])
  assert g1 == {"params": 1} and g2 == {"batch_stats": 2, "cache": 3} and g3 == {}


@pytest.mark.parametrize('filter_like,empty', [
  ('a', False), ([], True), (['a'], False), ((), True), (True, False), (False, True),
  (DenyList([]), False), (DenyList(True), True), (DenyList('a'), False),
  (DenyList(DenyList(True)), False),
])
def test_is_filter_empty(filter_like, empty):
  from flaxen.core.scope import is_filter_empty

  assert is_filter_empty(filter_like) is empty


def test_is_filter_empty_rejects_non_filters():
  from flaxen.core.scope import is_filter_empty

  with pytest.raises(errors.InvalidFilterError, match='Invalid Filter'):
    is_filter_empty(3)


def test_denylists_sort_after_strings_so_filter_dicts_are_pytrees():
  assert sorted(["b", DenyList("x"), "a", DenyList("a")]) == [
    "a", "b", DenyList("a"), DenyList("x")]
  assert DenyList("a") > "z" and "z" < DenyList("a") and DenyList("a") < DenyList("b")
  with pytest.raises(TypeError):
    DenyList("a") < 3  # noqa: B015
  import jax

  leaves = jax.tree_util.tree_leaves({DenyList("params"): 1, "params": 2})
  assert leaves == [2, 1]
