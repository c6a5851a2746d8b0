"""Counter snapshots, deltas and replay."""

from flaxen._src.core.lift import counters as ctr


def test_delta_and_apply_roundtrip():
  before = {'params': 1, ('c', 'a'): {'params': 0}}
  after = {'params': 3, ('c', 'a'): {'params': 2}, ('c', 'b'): {'dropout': 1}}
  d = ctr.delta(after, ctr.snapshot(before))
  assert d == {'params': 2, ('c', 'a'): {'params': 2}, ('c', 'b'): {'dropout': 1}}
  ctr.apply_delta(before, d)
  assert before == after


def test_freeze_is_order_independent():
  assert ctr.freeze({'a': 1, 'b': {'x': 2}}) == ctr.freeze({'b': {'x': 2}, 'a': 1})
  hash(ctr.freeze({('c', 'n'): {'a': 1}}))
