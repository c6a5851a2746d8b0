"""convert_pre_linen (SPEC L24613-L24635)."""

from flaxen.core import FrozenDict, freeze
from flaxen.training import checkpoints


def test_doc_example():
  out = checkpoints.convert_pre_linen({'Conv_0': {'kernel': 1}, 'Dense_1': {'kernel': 2}})
  assert out == {'Conv_0': {'kernel': 1}, 'Dense_0': {'kernel': 2}}


def test_nested_natural_order_and_frozen():
  pre = freeze({
    'Dense_10': {'b': 10}, 'Dense_2': {'b': 2}, 'Conv_1': {'Dense_3': {'k': 0}, 'bias': 5},
    'BatchNorm_11': {'scale': 1}, 'other': 7,
  })
  out = checkpoints.convert_pre_linen(pre)
  assert isinstance(out, FrozenDict)
  assert out['Dense_0'] == {'b': 2} and out['Dense_1'] == {'b': 10}
  assert out['Conv_0']['Dense_0'] == {'k': 0} and out['Conv_0']['bias'] == 5
  assert out['BatchNorm_0'] == {'scale': 1} and out['other'] == 7


def test_idempotent_on_linen_trees():
  linen = {'Conv_0': {'k': 1}, 'Conv_1': {'k': 2}, 'Dense_0': {'k': 3}}
  assert checkpoints.convert_pre_linen(linen) == linen
  assert checkpoints.convert_pre_linen(checkpoints.convert_pre_linen(linen)) == linen
  assert checkpoints.convert_pre_linen(5) == 5
