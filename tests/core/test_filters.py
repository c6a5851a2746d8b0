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


def test_union_intersect_subtract():
  assert union_filters("a", "b") == ("a", "b")
  assert union_filters(True, "b") is True
  assert union_filters(DenyList("intermediates"), "intermediates") is True
  assert union_filters(False, "x") == ("x",)
  assert intersect_filters(["a", "b"], ["b", "c"]) == ("b",)
  assert intersect_filters(True, "a") == ("a",)
  assert intersect_filters(["a", "b"], DenyList("a")) == ("b",)
  assert intersect_filters("a", "b") is False
  assert subtract_filters(["a", "b"], "a") == ("b",)
  assert subtract_filters(True, "a") == DenyList(("a",))
  assert subtract_filters("a", True) is False
  for f in (union_filters(DenyList("a"), DenyList(["a", "b"])),):
    assert in_filter(f, "b") and not in_filter(f, "a")


def test_filter_to_set_and_group():
  assert filter_to_set(["a", "b"]) == {"a", "b"}
  assert filter_to_set(False) == set()
  with pytest.raises(ValueError):
    filter_to_set(True)
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
