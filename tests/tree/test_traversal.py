"""flaxen._src.tree.traversal: composition, sugar, set, slices and the no-mutation invariant."""

import collections
import copy
import dataclasses
import pickle

import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import struct
from flaxen import traverse_util as tu
from flaxen.core import FrozenDict, freeze

Point = collections.namedtuple('Point', ['x', 'y'])


@dataclasses.dataclass(frozen=True)
class Box:
  items: tuple = ()
  label: str = ''


@struct.dataclass
class Node:
  value: int
  children: tuple = ()


def _nested():
  return {
    'layers': [{'w': 1, 'b': 2}, {'w': 3, 'b': 4}, {'w': 5, 'b': 6}],
    'meta': FrozenDict({'n': 3, 'tags': ('a', 'b')}),
    'point': Point(7, 8),
    'box': Box(items=(1, 2, 3), label='L'),
  }


def test_public_identity():
  for name in ('Traversal', 'TraverseId', 'TraverseMerge', 'TraverseCompose', 'TraverseFilter',
               'TraverseAttr', 'TraverseItem', 'TraverseEach', 'TraverseTree',
               'ModelParamTraversal'):
    cls = getattr(tu, name)
    assert cls.__module__ == 'flaxen.traverse_util'
    assert pickle.loads(pickle.dumps(cls)) is cls
  assert isinstance(tu.t_identity, tu.TraverseId)


def test_sugar_builds_compositions():
  t = tu.t_identity['layers'].each()['w']
  assert isinstance(t, tu.TraverseCompose)
  assert isinstance(tu.t_identity.foo, tu.TraverseCompose)
  assert isinstance(tu.t_identity.foo.y, tu.Traversal)
  assert list(t.iterate(_nested())) == [1, 3, 5]
  assert list(tu.t_identity['box'].label.iterate(_nested())) == ['L']
  assert list(tu.t_identity['box'].items[::2].iterate(_nested())) == [1, 3]


def test_iterate_is_lazy():
  calls = []
  t = tu.t_identity.each().filter(lambda v: calls.append(v) or True)
  it = t.iterate([1, 2, 3])
  assert calls == []
  assert next(it) == 1 and calls == [1]


def test_update_never_mutates_and_shares_untouched_parts():
  data = _nested()
  snapshot = copy.deepcopy(data)
  out = tu.t_identity['layers'][1]['w'].update(lambda v: v * 100, data)
  assert data == snapshot
  assert out['layers'][1] == {'w': 300, 'b': 4}
  # containers on the focused path are rebuilt ...
  assert out is not data and out['layers'] is not data['layers']
  assert out['layers'][1] is not data['layers'][1]
  # ... and everything else is shared, not copied
  assert out['layers'][0] is data['layers'][0] and out['meta'] is data['meta']
  assert out['box'] is data['box']


@pytest.mark.parametrize('traversal', [
  tu.t_identity['layers'].each()['b'],
  tu.t_identity['layers'][::-1]['w'],
  tu.t_identity['meta']['tags'].each(),
  tu.t_identity['box'].label,
  tu.t_identity['box'].items[1:],
  tu.t_identity.tree(),
  tu.t_identity['layers'].each().filter(lambda d: d['w'] > 2)['b'],
  tu.t_identity['point'].merge(tu.t_identity['box'].items.each()),
])
def test_update_and_set_never_mutate_input(traversal):
  data = _nested()
  snapshot = copy.deepcopy(data)
  traversal.update(lambda v: [v], data)
  n = len(list(traversal.iterate(data)))
  traversal.set(list(range(n)), data)
  assert data == snapshot
  assert type(data['meta']) is FrozenDict and type(data['point']) is Point


def test_container_types_are_preserved():
  data = _nested()
  out = tu.t_identity['meta']['tags'].each().update(str.upper, data)
  assert isinstance(out['meta'], FrozenDict) and out['meta']['tags'] == ('A', 'B')
  out = tu.t_identity['point'].update(lambda p: p, data)
  assert type(out['point']) is Point
  out = tu.t_identity['box'].items.each().update(lambda v: -v, data)
  assert out['box'] == Box(items=(-1, -2, -3), label='L') and type(out['box'].items) is tuple
  node = Node(1, (Node(2), Node(3)))
  bumped = tu.t_identity.children.each().value.update(lambda v: v + 10, node)
  assert bumped == Node(1, (Node(12), Node(13))) and node.children[0].value == 2


def test_compose_is_associative():
  a, b, c = tu.TraverseItem('layers'), tu.TraverseEach(), tu.TraverseItem('w')
  left = a.compose(b).compose(c)
  right = a.compose(b.compose(c))
  data = _nested()
  assert list(left.iterate(data)) == list(right.iterate(data)) == [1, 3, 5]
  assert left.update(lambda v: -v, data) == right.update(lambda v: -v, data)


def test_merge_applies_each_traversal_in_order():
  xs = [1, 2, 3]
  first, whole = tu.t_identity[0], tu.t_identity.each()
  merged = first.merge(whole)
  assert list(merged.iterate(xs)) == [1, 1, 2, 3]
  # an element focused twice is updated twice, first by ``first`` then by ``whole``
  assert merged.update(lambda v: v * 10, xs) == [100, 20, 30]
  three = tu.TraverseMerge(tu.t_identity[0], tu.t_identity[1], tu.t_identity[2])
  assert three.set(['a', 'b', 'c'], xs) == ['a', 'b', 'c']
  assert list(tu.TraverseMerge().iterate(xs)) == []
  assert tu.TraverseMerge().update(lambda v: 0, xs) is xs


def test_set_in_iteration_order_and_value_count():
  data = _nested()
  t = tu.t_identity['layers'].each()['w']
  out = t.set(iter([10, 20, 30]), data)  # any iterable
  assert [d['w'] for d in out['layers']] == [10, 20, 30]
  assert t.set([10, 20, 30, 40], data) == out  # extra values are ignored
  with pytest.raises(ValueError, match='Not enough values'):
    t.set([10, 20], data)
  rev = tu.t_identity[::-1]
  assert list(rev.iterate([1, 2, 3])) == [3, 2, 1]
  assert rev.set(['x', 'y', 'z'], [1, 2, 3]) == ['z', 'y', 'x']


@pytest.mark.parametrize('name', ['x', 'y', 'attr', 'key', 'fn', 'traversals', 'other'])
@pytest.mark.parametrize('base', [
  tu.t_identity['o'],                                    # a TraverseCompose
  tu.TraverseItem('o'),
  tu.TraverseFilter(lambda v: True)['o'],
  tu.TraverseMerge(tu.TraverseItem('o')),
], ids=['compose', 'item', 'filter', 'merge'])
def test_attr_sugar_reaches_any_field_name(base, name):
  # ``t.<name>`` must always focus attribute ``name`` of the focused value, even when the
  # name coincides with an attribute the traversal object stores about itself.
  obj = collections.namedtuple('Obj', ['x', 'y', 'attr', 'key', 'fn', 'traversals', 'other'])(
    *range(7))
  t = getattr(base, name)
  assert list(t.iterate({'o': obj})) == [getattr(obj, name)]
  out = t.update(lambda v: -1, {'o': obj})
  assert getattr(out['o'], name) == -1


def test_filter_focuses_only_matching_values():
  t = tu.t_identity['layers'].each().filter(lambda d: d['w'] >= 3)
  data = _nested()
  assert [d['w'] for d in t.iterate(data)] == [3, 5]
  out = t['b'].set([40, 60], data)
  assert [d['b'] for d in out['layers']] == [2, 40, 60]
  assert tu.TraverseFilter(lambda v: False).update(lambda v: 1 / 0, 5) == 5


def test_slices():
  xs = list(range(6))
  assert list(tu.t_identity[1:5:2].iterate(xs)) == [1, 3]
  assert list(tu.t_identity[-2:].iterate(xs)) == [4, 5]
  assert list(tu.t_identity[10:].iterate(xs)) == []
  assert tu.t_identity[10:].update(lambda v: 1 / 0, xs) == xs
  assert tu.t_identity[::-2].update(lambda v: -v, tuple(xs)) == (0, -1, 2, -3, 4, -5)
  assert tu.t_identity[:2].each().update(lambda v: v + 1, [[1], [2, 3], [4]]) == [[2], [3, 4], [4]]
  p = tu.t_identity[1:].update(lambda v: 0, Point(1, 2))
  assert p == Point(1, 0) and type(p) is Point


def test_tree_traversal_over_pytrees():
  params = freeze({'a': {'k': jnp.ones(2)}, 'b': (jnp.zeros(1), Point(jnp.ones(1), None))})
  leaves = list(tu.t_identity.tree().iterate(params))
  assert len(leaves) == 3  # None is not a leaf
  out = tu.t_identity['b'].tree().update(lambda v: v + 5, params)
  assert isinstance(out, FrozenDict) and out['a'] is params['a']
  np.testing.assert_array_equal(out['b'][1].x, [6.0])
  assert out['b'][1].y is None and type(out['b'][1]) is Point
  np.testing.assert_array_equal(params['b'][1].x, [1.0])


def test_attr_on_non_frozen_object_copies():
  class Holder:
    def __init__(self, v, other):
      self.v, self.other = v, other

  shared = [1, 2]
  h = Holder(1, shared)
  h2 = tu.t_identity.v.update(lambda v: v + 1, h)
  assert (h.v, h2.v) == (1, 2) and h2.other is shared and h2 is not h


def test_each_on_non_sequence_is_a_clear_error():
  with pytest.raises(TypeError, match='list or tuple'):
    tu.TraverseEach().update(lambda v: v, {'a': 1})
