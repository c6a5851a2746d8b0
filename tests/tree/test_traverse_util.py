"""flaxen.traverse_util: flatten/unflatten, path_aware_map and the Traversal family."""

import collections
import dataclasses
import pickle

import jax.numpy as jnp
import pytest

from flaxen import traverse_util as tu
from flaxen.core import FrozenDict, freeze


@dataclasses.dataclass(frozen=True)
class Foo:
  foo: int = 0
  bar: int = 0


Pair = collections.namedtuple('Pair', ['x', 'y'])


# --- flatten / unflatten / path_aware_map ---

def test_flatten_dict_seed_example():
  xs = {'foo': 1, 'bar': {'a': 2, 'b': {}}}
  assert tu.flatten_dict(xs) == {('foo',): 1, ('bar', 'a'): 2}
  assert list(tu.flatten_dict(xs)) == [('foo',), ('bar', 'a')]


def test_flatten_keep_empty_nodes_roundtrip():
  xs = {'foo': 1, 'bar': {'a': 2, 'b': {}}}
  flat = tu.flatten_dict(xs, keep_empty_nodes=True)
  assert flat[('bar', 'b')] is tu.empty_node
  assert tu.unflatten_dict(flat) == xs
  assert tu.unflatten_dict(tu.flatten_dict(xs)) == {'foo': 1, 'bar': {'a': 2}}
  assert tu.flatten_dict({}, keep_empty_nodes=True) == {}


def test_flatten_with_sep_and_frozen_dict():
  params = freeze({'Conv_0': {'bias': 1, 'kernel': 2}, 'Dense_0': {'kernel': 3}})
  flat = tu.flatten_dict(params, sep='/')
  assert flat == {'Conv_0/bias': 1, 'Conv_0/kernel': 2, 'Dense_0/kernel': 3}
  back = tu.unflatten_dict(flat, sep='/')
  assert type(back) is dict and type(back['Conv_0']) is dict
  assert back == params.unfreeze()


def test_flatten_is_leaf():
  xs = {'a': {'b': {'c': 1}}, 'd': {'e': 2}}
  seen = []

  def is_leaf(path, value):
    seen.append(path)
    return path == ('a', 'b')

  assert tu.flatten_dict(xs, is_leaf=is_leaf) == {('a', 'b'): {'c': 1}, ('d', 'e'): 2}
  assert ('a',) in seen


def test_flatten_rejects_non_dicts_and_does_not_mutate():
  with pytest.raises(TypeError):
    tu.flatten_dict([1, 2])
  xs = {'a': {'b': 1}}
  tu.flatten_dict(xs)
  assert xs == {'a': {'b': 1}}


def test_unflatten_conflicting_paths():
  with pytest.raises(ValueError, match='leaf'):
    tu.unflatten_dict({('a',): 1, ('a', 'b'): 2})


def test_path_aware_map_seed_example():
  params = {'a': {'x': 10, 'y': 3}, 'b': {'x': 20}}
  f = lambda path, x: x + 5 if 'x' in path else -x
  assert tu.path_aware_map(f, params) == {'a': {'x': 15, 'y': -3}, 'b': {'x': 25}}
  assert params == {'a': {'x': 10, 'y': 3}, 'b': {'x': 20}}
  labels = tu.path_aware_map(lambda p, _: 'frozen' if p[0] == 'a' else 'train',
                             freeze({'a': {'k': 1}, 'b': {'k': 2, 'e': {}}}))
  assert labels == {'a': {'k': 'frozen'}, 'b': {'k': 'train', 'e': {}}}


def test_empty_node_pickles_to_itself():
  assert pickle.loads(pickle.dumps(tu.empty_node)) is tu.empty_node
  assert repr(tu.empty_node) == 'empty_node'


# --- the Traversal family (seed examples first) ---

def test_traverse_attr_seed_example():
  assert list(tu.TraverseAttr('foo').iterate(Foo(foo=1))) == [1]


def test_identity_each_item_seed_example():
  data = [{'foo': 1, 'bar': 2}, {'foo': 3, 'bar': 4}]
  traversal = tu.t_identity.each()['foo']
  assert list(traversal.iterate(data)) == [1, 3]
  updated = traversal.update(lambda x: x * 10, data)
  assert updated == [{'foo': 10, 'bar': 2}, {'foo': 30, 'bar': 4}]
  assert data == [{'foo': 1, 'bar': 2}, {'foo': 3, 'bar': 4}]


def test_item_then_attr_update_seed_example():
  data = {'foo': Foo(bar=2)}
  traversal = tu.t_identity['foo'].bar
  assert traversal.update(lambda x: x + x, data) == {'foo': Foo(bar=4)}
  assert data == {'foo': Foo(bar=2)}


def test_traverse_id_and_set():
  assert list(tu.TraverseId().iterate(5)) == [5]
  assert tu.TraverseId().update(lambda x: x + 1, 5) == 6
  t = tu.t_identity.each()
  assert t.set([7, 8, 9], [1, 2, 3]) == [7, 8, 9]
  with pytest.raises(ValueError, match='Not enough values'):
    t.set([1], [1, 2])


def test_traverse_item_on_sequences_and_slices():
  xs = [0, 1, 2, 3, 4]
  t = tu.TraverseItem(slice(1, None, 2))
  assert list(t.iterate(xs)) == [1, 3]
  assert t.update(lambda v: -v, xs) == [0, -1, 2, -3, 4] and xs == [0, 1, 2, 3, 4]
  assert tu.TraverseItem(slice(None, 2)).update(lambda v: v + 10, (1, 2, 3)) == (11, 12, 3)
  assert tu.TraverseItem(-1).update(lambda v: 9, (1, 2)) == (1, 9)
  assert tu.TraverseItem(0).update(lambda v: 9, Pair(1, 2)) == Pair(9, 2)
  assert tu.TraverseItem(slice(1, 2)).update(lambda v: 9, Pair(1, 2)) == Pair(1, 9)


def test_traverse_item_on_frozen_dict():
  fd = freeze({'a': 1, 'b': 2})
  out = tu.t_identity['a'].update(lambda v: v + 1, fd)
  assert isinstance(out, FrozenDict) and out == {'a': 2, 'b': 2} and fd['a'] == 1


def test_traverse_each_preserves_container_type():
  assert tu.TraverseEach().update(lambda v: v * 2, (1, 2)) == (2, 4)
  assert tu.TraverseEach().update(lambda v: v * 2, Pair(1, 2)) == Pair(2, 4)
  assert list(tu.TraverseEach().iterate([3, 4])) == [3, 4]


def test_traverse_attr_on_namedtuple_and_plain_object():
  assert tu.TraverseAttr('y').update(lambda v: 0, Pair(1, 2)) == Pair(1, 0)

  class Plain:
    def __init__(self):
      self.v = 1

  p = Plain()
  q = tu.t_identity.v.update(lambda v: v + 1, p)
  assert q.v == 2 and p.v == 1


def test_traverse_filter_merge_compose_tree():
  xs = [1, 2, 3, 4]
  even = tu.t_identity.each().filter(lambda v: v % 2 == 0)
  assert list(even.iterate(xs)) == [2, 4]
  assert even.update(lambda v: 0, xs) == [1, 0, 3, 0]
  assert list(tu.TraverseFilter(lambda v: v > 2).iterate(1)) == []
  first, last = tu.t_identity[0], tu.t_identity[-1]
  merged = first.merge(last)
  assert isinstance(merged, tu.TraverseMerge)
  assert list(merged.iterate(xs)) == [1, 4]
  assert merged.update(lambda v: v * 100, xs) == [100, 2, 3, 400]
  comp = tu.TraverseCompose(tu.TraverseItem('a'), tu.TraverseEach())
  assert list(comp.iterate({'a': (5, 6)})) == [5, 6]
  assert list(tu.t_identity.compose(tu.TraverseItem(1)).iterate([0, 7])) == [7]
  tree = {'a': [1, 2], 'b': {'c': 3}}
  assert sorted(tu.t_identity.tree().iterate(tree)) == [1, 2, 3]
  assert tu.TraverseTree().update(lambda v: v + 1, tree) == {'a': [2, 3], 'b': {'c': 4}}
  assert tree == {'a': [1, 2], 'b': {'c': 3}}


def test_traversal_is_abstract_and_private_attrs_are_not_sugar():
  with pytest.raises(TypeError):
    tu.Traversal()
  with pytest.raises(AttributeError):
    tu.t_identity._private


# --- ModelParamTraversal ---

PARAMS = {
  'Dense_0': {'kernel': jnp.ones((2, 3)), 'bias': jnp.zeros(3)},
  'Block': {'Dense_0': {'kernel': jnp.ones((3, 3)), 'bias': jnp.zeros(3)}},
}


def test_model_param_traversal_paths_and_iterate():
  names = []
  t = tu.ModelParamTraversal(lambda path, _: names.append(path) or path.endswith('kernel'))
  kernels = list(t.iterate(PARAMS))
  assert names == ['/Dense_0/kernel', '/Dense_0/bias', '/Block/Dense_0/kernel',
                   '/Block/Dense_0/bias']
  assert [k.shape for k in kernels] == [(2, 3), (3, 3)]


def test_model_param_traversal_update_dict_and_frozen_dict():
  t = tu.ModelParamTraversal(lambda path, _: 'bias' in path)
  out = t.update(lambda x: x + 1, PARAMS)
  assert type(out) is dict
  assert out['Dense_0']['bias'].tolist() == [1.0] * 3
  assert out['Block']['Dense_0']['kernel'] is PARAMS['Block']['Dense_0']['kernel']
  assert PARAMS['Dense_0']['bias'].tolist() == [0.0] * 3
  fout = t.update(lambda x: x + 1, freeze(PARAMS))
  assert isinstance(fout, FrozenDict) and fout['Block']['Dense_0']['bias'].tolist() == [1.0] * 3
  # optax-style mask: a bool per leaf
  mask = tu.ModelParamTraversal(lambda p, _: 'kernel' in p).update(lambda _: True,
                                                                   tu.path_aware_map(
                                                                     lambda p, v: False, PARAMS))
  assert mask == {'Dense_0': {'kernel': True, 'bias': False},
                  'Block': {'Dense_0': {'kernel': True, 'bias': False}}}


def test_model_param_traversal_keeps_empty_nodes_and_rejects_non_dicts():
  t = tu.ModelParamTraversal(lambda *_: True)
  assert t.update(lambda x: x, {'a': {}, 'b': {'c': 1}}) == {'a': {}, 'b': {'c': 1}}
  with pytest.raises(ValueError, match='nested dict'):
    list(t.iterate([1, 2]))
