"""flaxen._src.tree.traversal: the deprecated Traversal family, as the reference behaves.

Expected results and messages were checked against flax 0.12.8; the few deliberate
differences are marked. Constructing a traversal warns (tested below); the other tests
silence that one warning.
"""

import collections
import copy
import dataclasses
import pickle
import re
import subprocess
import sys

import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import struct
from flaxen import traverse_util as tu
from flaxen.core import FrozenDict, freeze

DEPRECATION = re.escape(
  '`flax.traverse_util.Traversal` will be deprecated. If you are using it for `flax.optim`, '
  'use `optax` instead. Refer to the update guide '
  'https://flax.readthedocs.io/en/latest/guides/converting_and_upgrading/optax_update_guide.html '
  'for detailed instructions.'
)
pytestmark = pytest.mark.filterwarnings(
  'ignore:`flax.traverse_util.Traversal` will be deprecated:DeprecationWarning'
)

Point = collections.namedtuple('Point', ['x', 'y'])


@dataclasses.dataclass(frozen=True)
class Box:
  items: tuple = ()
  label: str = ''


@dataclasses.dataclass(frozen=True)
class Foo:
  foo: int = 0
  bar: int = 0


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


# ------------------------------------------------------------------------------ deprecation


@pytest.mark.filterwarnings('error')
def test_every_construction_warns_with_the_reference_text():
  makers = [
    lambda: tu.TraverseId(), lambda: tu.TraverseItem('a'), lambda: tu.TraverseAttr('a'),
    lambda: tu.TraverseEach(), lambda: tu.TraverseTree(), lambda: tu.TraverseMerge(),
    lambda: tu.TraverseFilter(bool), lambda: tu.ModelParamTraversal(lambda p, v: True),
    lambda: tu.t_identity['a'],  # TraverseItem + TraverseCompose
    lambda: tu.t_identity.each(),
  ]
  for make in makers:
    with pytest.warns(DeprecationWarning, match=DEPRECATION) as record:
      make()
    assert all(w.category is DeprecationWarning for w in record)
    # attributed to the library (stacklevel 1), so default filters hide it in scripts
    assert all('traversal.py' in w.filename for w in record)


def test_importing_and_t_identity_do_not_warn():
  code = (
    'import warnings; warnings.simplefilter("error"); '
    'import flaxen.traverse_util as tu; print(list(tu.t_identity.iterate(3)))'
  )
  out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                       timeout=120, check=True)
  assert out.stdout.strip() == '[3]'


# ------------------------------------------------------------------------------ public names


def test_public_identity():
  for name in ('Traversal', 'TraverseId', 'TraverseMerge', 'TraverseCompose', 'TraverseFilter',
               'TraverseAttr', 'TraverseItem', 'TraverseEach', 'TraverseTree',
               'ModelParamTraversal'):
    cls = getattr(tu, name)
    assert cls.__module__ == 'flaxen.traverse_util'
    assert pickle.loads(pickle.dumps(cls)) is cls
  assert isinstance(tu.t_identity, tu.TraverseId)
  with pytest.raises(TypeError):
    tu.Traversal()  # abstract


# ------------------------------------------------------------------------------ reference examples


def test_reference_module_examples():
  assert list(tu.TraverseAttr('foo').iterate(Foo(foo=1))) == [1]
  data = [{'foo': 1, 'bar': 2}, {'foo': 3, 'bar': 4}]
  assert list(tu.t_identity.each()['foo'].iterate(data)) == [1, 3]
  assert tu.t_identity['foo'].bar.update(lambda x: x + x, {'foo': Foo(bar=2)}) == {
    'foo': Foo(foo=0, bar=4)}


# ------------------------------------------------------------------------------ sugar, compose


def test_sugar_builds_compositions():
  t = tu.t_identity['layers'].each()['w']
  assert isinstance(t, tu.TraverseCompose)
  assert isinstance(tu.t_identity.foo, tu.TraverseCompose)
  assert list(t.iterate(_nested())) == [1, 3, 5]
  assert list(tu.t_identity['box'].label.iterate(_nested())) == ['L']
  assert list(tu.t_identity['box'].items[::2].iterate(_nested())) == [1, 3]
  # single-underscore names are attribute sugar too (the reference composes any name)
  assert isinstance(tu.t_identity._private, tu.TraverseCompose)
  with pytest.raises(AttributeError):
    tu.t_identity.__not_a_dunder_we_have__  # dunders stay real attribute lookups


@pytest.mark.parametrize('name', ['x', 'y', 'attr', 'key', 'fn', 'traversals', 'other'])
@pytest.mark.parametrize('base', ['compose', 'item', 'filter', 'merge'])
def test_attr_sugar_reaches_any_field_name(base, name):
  # ``t.<name>`` focuses attribute ``name`` of the focused value, even when the name
  # coincides with an attribute the traversal object stores about itself
  base_t = {
    'compose': lambda: tu.t_identity['o'],
    'item': lambda: tu.TraverseItem('o'),
    'filter': lambda: tu.TraverseFilter(lambda v: True)['o'],
    'merge': lambda: tu.TraverseMerge(tu.TraverseItem('o')),
  }[base]()
  obj = collections.namedtuple('Obj', ['x', 'y', 'attr', 'key', 'fn', 'traversals', 'other'])(
    *range(7))
  t = getattr(base_t, name)
  assert list(t.iterate({'o': obj})) == [getattr(obj, name)]
  assert getattr(t.update(lambda v: -1, {'o': obj})['o'], name) == -1


def test_compose_is_associative():
  a, b, c = tu.TraverseItem('layers'), tu.TraverseEach(), tu.TraverseItem('w')
  left, right = a.compose(b).compose(c), a.compose(b.compose(c))
  data = _nested()
  assert list(left.iterate(data)) == list(right.iterate(data)) == [1, 3, 5]
  assert left.update(lambda v: -v, data) == right.update(lambda v: -v, data)


# ------------------------------------------------------------------------------ merge


def test_merge_composes_a_merge_inside_the_focused_values():
  # reference: t.merge(a, b) == t.compose(TraverseMerge(a, b))
  xs = [[1, 2], [3]]
  merged = tu.t_identity[0].merge(tu.t_identity.each())
  assert isinstance(merged, tu.TraverseCompose)
  assert list(merged.iterate(xs)) == [1, 2]
  assert merged.update(lambda v: v * 10, xs) == [[10, 20], [3]]
  both = tu.t_identity.merge(tu.t_identity[0], tu.t_identity[-1])
  assert list(both.iterate([1, 2, 3])) == [1, 3]
  assert both.update(lambda v: v * 100, [1, 2, 3]) == [100, 2, 300]


def test_traverse_merge_applies_each_traversal_in_order():
  xs = [1, 2, 3]
  twice = tu.TraverseMerge(tu.t_identity[0], tu.t_identity.each())
  assert list(twice.iterate(xs)) == [1, 1, 2, 3]
  assert twice.update(lambda v: v * 10, xs) == [100, 20, 30]
  assert tu.TraverseMerge(tu.t_identity[0], tu.t_identity[1]).update(lambda v: -v, xs) == [
    -1, -2, 3]
  assert list(tu.TraverseMerge().iterate(xs)) == []
  assert tu.TraverseMerge().update(lambda v: 0, xs) is xs


# ------------------------------------------------------------------------------ set


def test_set_counts_values_like_the_reference():
  t = tu.t_identity.each()
  assert t.set([4, 5, 6], [1, 2, 3]) == [4, 5, 6]
  with pytest.raises(ValueError, match='^Not enough values provided$'):
    t.set([4, 5], [1, 2, 3])
  with pytest.raises(ValueError, match='^Too many values provided$'):
    t.set([4, 5, 6, 7], [1, 2, 3])
  with pytest.raises(ValueError, match='^Too many values provided$'):
    t.set([1], [])
  assert t.set([], []) == []


def test_set_takes_any_iterable_and_leaves_it_alone():
  # the reference needs a list and pops it empty; flaxen copies what it is given
  values = [4, 5, 6]
  assert tu.t_identity.each().set(values, [1, 2, 3]) == [4, 5, 6] and values == [4, 5, 6]
  assert tu.t_identity.each().set(iter([7, 8]), (1, 2)) == (7, 8)
  data = _nested()
  out = tu.t_identity['layers'].each()['w'].set((10, 20, 30), data)
  assert [d['w'] for d in out['layers']] == [10, 20, 30]


def test_set_through_a_filter():
  t = tu.t_identity['layers'].each().filter(lambda d: d['w'] >= 3)
  data = _nested()
  assert [d['w'] for d in t.iterate(data)] == [3, 5]
  assert [d['b'] for d in t['b'].set([40, 60], data)['layers']] == [2, 40, 60]
  assert tu.TraverseFilter(lambda v: False).update(lambda v: 1 / 0, 5) == 5


# ------------------------------------------------------------------------------ each


def test_each_over_dicts_and_sequences():
  each = tu.TraverseEach()
  assert each.update(lambda v: v * 2, {'a': 1, 'b': 2}) == {'a': 2, 'b': 4}
  assert list(each.iterate({'a': 1, 'b': 2})) == [1, 2]
  assert list(each.iterate(collections.OrderedDict(a=1))) == [1]
  assert list(each.iterate(FrozenDict({'a': 1, 'b': 2}))) == ['a', 'b']  # a Mapping: its keys
  assert list(each.iterate(Point(1, 2))) == [1, 2]
  assert each.update(lambda v: v * 2, (1, 2)) == (2, 4)
  assert each.update(lambda v: v * 2, [1, 2]) == [2, 4]
  assert tu.t_identity['layers'].each()['b'].update(lambda v: -v, _nested())['layers'] == [
    {'w': 1, 'b': -2}, {'w': 3, 'b': -4}, {'w': 5, 'b': -6}]


@pytest.mark.parametrize('value', [
  FrozenDict({'a': 1}), Point(1, 2), {1, 2}, 'ab', collections.OrderedDict(a=1),
], ids=['frozendict', 'namedtuple', 'set', 'str', 'ordereddict'])
def test_each_update_refuses_other_containers(value):
  with pytest.raises(ValueError, match='^Only the entries of a list or tuple can be traversed.'):
    tu.TraverseEach().update(lambda v: v, value)


# ------------------------------------------------------------------------------ item


def test_item_on_sequences():
  assert tu.TraverseItem(0).update(lambda v: 9, Point(1, 2)) == Point(9, 2)
  assert tu.TraverseItem(slice(1, 2)).update(lambda v: 9, Point(1, 2)) == Point(1, 9)
  assert tu.TraverseItem(slice(None, 2)).update(lambda v: v + 10, (1, 2, 3)) == (11, 12, 3)
  assert tu.t_identity[-2].update(lambda v: -v, (1, 2, 3)) == (1, -2, 3)
  assert tu.t_identity[5].update(lambda v: -v, (1, 2)) == (1, 2)  # outside a tuple: nothing
  assert tu.t_identity[-1].update(lambda v: -v, [1, 2, 3]) == [1, 2, -3]
  with pytest.raises(IndexError):
    tu.t_identity[5].update(lambda v: -v, [1, 2])
  with pytest.raises(IndexError):
    list(tu.t_identity[5].iterate([1, 2]))
  # deliberate difference: the reference leaves a tuple unchanged for index -1
  assert tu.t_identity[-1].update(lambda v: -v, (1, 2, 3)) == (1, 2, -3)


def test_item_slices():
  xs = list(range(6))
  assert list(tu.t_identity[1:5:2].iterate(xs)) == [1, 3]
  assert list(tu.t_identity[-2:].iterate(xs)) == [4, 5]
  assert list(tu.t_identity[::-1].iterate([1, 2, 3])) == [3, 2, 1]
  assert tu.t_identity[10:].update(lambda v: 1 / 0, xs) == xs
  assert tu.t_identity[::-2].update(lambda v: -v, tuple(xs)) == (0, -1, 2, -3, 4, -5)
  # values go to the selected positions in index order (the reference's order for tuples)
  assert tu.t_identity[::-1].set(['x', 'y', 'z'], (1, 2, 3)) == ('x', 'y', 'z')
  p = tu.t_identity[1:].update(lambda v: 0, Point(1, 2))
  assert p == Point(1, 0) and type(p) is Point
  # deliberate difference: list slices are updated element by element (the reference
  # passes the whole sub-list to fn)
  assert tu.t_identity[::2].update(lambda v: -v, [1, 2, 3]) == [-1, 2, -3]
  assert tu.t_identity[:2].each().update(lambda v: v + 1, [[1], [2, 3], [4]]) == [
    [2], [3, 4], [4]]


def test_item_on_mappings():
  assert tu.t_identity['a'].update(lambda v: -v, {'a': 1, 'b': 2}) == {'a': -1, 'b': 2}
  fd = freeze({'a': 1, 'b': 2})
  out = tu.t_identity['a'].update(lambda v: v + 1, fd)  # the reference raises here
  assert isinstance(out, FrozenDict) and out == {'a': 2, 'b': 2} and fd['a'] == 1


# ------------------------------------------------------------------------------ attr, tree


def test_attr_updates():
  assert tu.t_identity.x.update(lambda v: -v, Point(1, 2)) == Point(-1, 2)
  assert tu.TraverseAttr('bar').update(lambda v: 7, Foo()) == Foo(bar=7)

  class Holder:
    def __init__(self, v, other):
      self.v, self.other = v, other

  shared = [1, 2]
  h = Holder(1, shared)
  h2 = tu.t_identity.v.update(lambda v: v + 1, h)
  assert (h.v, h2.v) == (1, 2) and h2.other is shared and h2 is not h
  with pytest.raises(AttributeError, match="no attribute 'q'"):
    tu.t_identity.q.update(lambda v: v, h)
  node = Node(1, (Node(2), Node(3)))
  bumped = tu.t_identity.children.each().value.update(lambda v: v + 10, node)
  assert bumped == Node(1, (Node(12), Node(13))) and node.children[0].value == 2


def test_tree_traversal_over_pytrees():
  params = freeze({'a': {'k': jnp.ones(2)}, 'b': (jnp.zeros(1), Point(jnp.ones(1), None))})
  assert len(list(tu.t_identity.tree().iterate(params))) == 3  # None is not a leaf
  out = tu.t_identity['b'].tree().update(lambda v: v + 5, params)
  assert isinstance(out, FrozenDict) and out['a']['k'] is params['a']['k']
  np.testing.assert_array_equal(out['b'][1].x, [6.0])
  assert out['b'][1].y is None and type(out['b'][1]) is Point
  np.testing.assert_array_equal(params['b'][1].x, [1.0])


# ------------------------------------------------------------------------------ no mutation


@pytest.mark.parametrize('make', [
  lambda: tu.t_identity['layers'].each()['b'],
  lambda: tu.t_identity['layers'][::-1]['w'],
  lambda: tu.t_identity['meta']['tags'].each(),
  lambda: tu.t_identity['box'].label,
  lambda: tu.t_identity['box'].items[1:],
  lambda: tu.t_identity.tree(),
  lambda: tu.t_identity['layers'].each().filter(lambda d: d['w'] > 2)['b'],
  lambda: tu.t_identity['point'].merge(tu.t_identity.x, tu.t_identity.y),
], ids=['each', 'reversed', 'tuple', 'attr', 'slice', 'tree', 'filter', 'merge'])
def test_update_and_set_never_mutate_input(make):
  traversal = make()
  data = _nested()
  snapshot = copy.deepcopy(data)
  traversal.update(lambda v: [v], data)
  n = len(list(traversal.iterate(data)))
  traversal.set(list(range(n)), data)
  assert data == snapshot
  assert type(data['meta']) is FrozenDict and type(data['point']) is Point


def test_update_shares_untouched_parts():
  data = _nested()
  out = tu.t_identity['layers'][1]['w'].update(lambda v: v * 100, data)
  assert out['layers'][1] == {'w': 300, 'b': 4}
  assert out is not data and out['layers'] is not data['layers']
  assert out['layers'][0] is data['layers'][0] and out['meta'] is data['meta']
  assert out['box'] is data['box']


def test_iterate_is_lazy():
  calls = []
  it = tu.t_identity.each().filter(lambda v: calls.append(v) or True).iterate([1, 2, 3])
  assert calls == []
  assert next(it) == 1 and calls == [1]


# ------------------------------------------------------------------------------ ModelParamTraversal

PARAMS = {
  'Dense_0': {'kernel': jnp.ones((2, 3)), 'bias': jnp.zeros(3)},
  'Block': {'Dense_0': {'kernel': jnp.ones((3, 3)), 'bias': jnp.zeros(3)}},
}


def test_model_param_traversal_visits_in_sorted_path_order():
  names = []
  t = tu.ModelParamTraversal(lambda path, _: names.append(path) or path.endswith('kernel'))
  kernels = list(t.iterate(PARAMS))
  assert names == ['/Block/Dense_0/bias', '/Block/Dense_0/kernel', '/Dense_0/bias',
                   '/Dense_0/kernel']
  assert [k.shape for k in kernels] == [(3, 3), (2, 3)]
  everything = tu.ModelParamTraversal(lambda p, v: True)
  assert list(everything.iterate({'b': {'y': 1, 'x': 2}, 'a': 3})) == [3, 2, 1]
  assert list(everything.iterate({'b': {}, 'a': 3})) == [3]
  assert everything.set([10, 20, 30], {'b': {'y': 1, 'x': 2}, 'a': 3}) == {
    'a': 10, 'b': {'x': 20, 'y': 30}}


def test_model_param_traversal_update_sorts_keys_and_keeps_the_type():
  t = tu.ModelParamTraversal(lambda path, _: 'x' in path)
  out = t.update(lambda v: -v, {'b': {'y': 1, 'x': 2, 'e': {}}, 'a': 3})
  assert out == {'a': 3, 'b': {'e': {}, 'x': -2, 'y': 1}}
  assert list(out) == ['a', 'b'] and list(out['b']) == ['e', 'x', 'y']
  fout = t.update(lambda v: -v, FrozenDict({'b': {'y': 1, 'x': 2}, 'a': 3}))
  assert isinstance(fout, FrozenDict) and list(fout) == ['a', 'b'] and fout['b']['x'] == -2
  biases = tu.ModelParamTraversal(lambda path, _: 'bias' in path).update(lambda x: x + 1, PARAMS)
  assert type(biases) is dict and biases['Dense_0']['bias'].tolist() == [1.0] * 3
  assert biases['Block']['Dense_0']['kernel'] is PARAMS['Block']['Dense_0']['kernel']
  assert PARAMS['Dense_0']['bias'].tolist() == [0.0] * 3


def test_model_param_traversal_rejects_non_dicts_with_the_reference_text():
  t = tu.ModelParamTraversal(lambda *_: True)
  text = re.escape("Can only traverse a flax Model instance or a nested dict, not <class 'list'>")
  with pytest.raises(ValueError, match=text):
    list(t.iterate([1, 2]))
  with pytest.raises(ValueError, match=text):
    t.update(lambda v: v, [1])
