"""flaxen.traverse_util: flatten_dict / unflatten_dict / path_aware_map / empty_node.

Expected results and error texts were checked against the reference (flax 0.12.8).
The Traversal family is tested in test_traversal.py.
"""

import pickle
import warnings

import jax
import jax.numpy as jnp
import pytest

from flaxen import traverse_util as tu
from flaxen.core import freeze


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
  assert tu.flatten_dict({'a': {'b': {}}}, keep_empty_nodes=True, sep='/') == {
    'a/b': tu.empty_node}


def test_flatten_with_sep_and_frozen_dict():
  params = freeze({'Conv_0': {'bias': 1, 'kernel': 2}, 'Dense_0': {'kernel': 3}})
  flat = tu.flatten_dict(params, sep='/')
  assert flat == {'Conv_0/bias': 1, 'Conv_0/kernel': 2, 'Dense_0/kernel': 3}
  back = tu.unflatten_dict(flat, sep='/')
  assert type(back) is dict and type(back['Conv_0']) is dict
  assert back == params.unfreeze()


def test_flatten_is_leaf_is_asked_for_every_dict_root_included():
  seen = []

  def is_leaf(path, value):
    seen.append(path)
    return path == ('a', 'b')

  xs = {'a': {'b': {'c': 1}}, 'd': {'e': 2}}
  assert tu.flatten_dict(xs, is_leaf=is_leaf) == {('a', 'b'): {'c': 1}, ('d', 'e'): 2}
  assert seen == [(), ('a',), ('a', 'b'), ('d',)]  # never asked about non-dict leaves
  assert tu.flatten_dict({'a': 1}, is_leaf=lambda p, x: p == ()) == {(): {'a': 1}}


def test_flatten_rejects_non_dicts_like_the_reference():
  # the reference asserts; flaxen's error is that AssertionError and also a TypeError
  with pytest.raises(AssertionError, match=r"^expected \(frozen\)dict; got <class 'list'>$"):
    tu.flatten_dict([1, 2])
  with pytest.raises(TypeError):
    tu.flatten_dict([1, 2])
  xs = {'a': {'b': 1}}
  tu.flatten_dict(xs)
  assert xs == {'a': {'b': 1}}


def test_unflatten_input_checks():
  with pytest.raises(AssertionError, match=r"^input is not a dict; it is a <class 'list'>$"):
    tu.unflatten_dict([(('a',), 1)])
  assert tu.unflatten_dict(freeze({('a',): 1})) == {'a': 1}  # any mapping is accepted
  with pytest.raises(IndexError, match='tuple index out of range'):
    tu.unflatten_dict({(): 1})
  # string keys without sep are sequences of one-character keys, as in the reference
  assert tu.unflatten_dict({'ab': 1}) == {'a': {'b': 1}}


def test_unflatten_paths_through_leaves_raise_the_reference_type_error():
  with pytest.raises(TypeError, match="^'int' object does not support item assignment"):
    tu.unflatten_dict({('a',): 1, ('a', 'b'): 2})
  with pytest.raises(TypeError, match="^'int' object does not support item assignment.*'b'"):
    tu.unflatten_dict({('a', 'b'): 2, ('a', 'b', 'c'): 1})
  with pytest.raises(TypeError, match="^'str' object does not support item assignment"):
    tu.unflatten_dict({('a',): 'xy', ('a', 'b'): 1})
  with pytest.raises(TypeError, match="^'NoneType' object does not support item assignment"):
    tu.unflatten_dict({('a',): None, ('a', 'b'): 1})
  with pytest.raises(ValueError, match='^FrozenDict is immutable.'):
    tu.unflatten_dict({('a',): freeze({'q': 1}), ('a', 'b'): 1})


def test_unflatten_later_paths_win_and_dict_leaves_are_extended_without_mutation():
  assert tu.unflatten_dict({('a', 'b'): 2, ('a',): 1}) == {'a': 1}
  leaf = {'q': 1}
  out = tu.unflatten_dict({('a',): leaf, ('a', 'b'): 1})
  assert out == {'a': {'q': 1, 'b': 1}}
  assert leaf == {'q': 1}  # the reference writes into it; flaxen copies
  out = tu.unflatten_dict({('x',): leaf, ('y',): leaf, ('x', 'n'): 2})
  assert out == {'x': {'q': 1, 'n': 2}, 'y': {'q': 1}} and out['y'] is leaf


def test_path_aware_map_seed_example():
  params = {'a': {'x': 10, 'y': 3}, 'b': {'x': 20}}
  f = lambda path, x: x + 5 if 'x' in path else -x
  assert tu.path_aware_map(f, params) == {'a': {'x': 15, 'y': -3}, 'b': {'x': 25}}
  assert params == {'a': {'x': 10, 'y': 3}, 'b': {'x': 20}}
  labels = tu.path_aware_map(lambda p, _: 'frozen' if p[0] == 'a' else 'train',
                             freeze({'a': {'k': 1}, 'b': {'k': 2, 'e': {}}}))
  assert labels == {'a': {'k': 'frozen'}, 'b': {'k': 'train', 'e': {}}}
  assert tu.path_aware_map(lambda p, v: (p, v), {'a': {}, 'b': 1}) == {'a': {}, 'b': (('b',), 1)}


def test_empty_node_sentinel():
  assert pickle.loads(pickle.dumps(tu.empty_node)) is tu.empty_node
  assert repr(tu.empty_node) == '_EmptyNode()'
  assert type(tu.empty_node).__module__ == 'flaxen.traverse_util'
  # a pytree without leaves (as the reference's struct dataclass); tree_map keeps the sentinel
  assert jax.tree_util.tree_leaves(tu.empty_node) == []
  flat = tu.flatten_dict({'a': {}, 'b': jnp.ones(2)}, keep_empty_nodes=True)
  doubled = jax.tree_util.tree_map(lambda x: x * 2, flat)
  assert doubled[('a',)] is tu.empty_node
  assert tu.unflatten_dict(doubled)['a'] == {}


def test_no_deprecation_warnings_outside_the_traversal_family():
  with warnings.catch_warnings():
    warnings.simplefilter('error')
    flat = tu.flatten_dict({'a': {'b': 1}}, keep_empty_nodes=True)
    tu.unflatten_dict(flat)
    tu.path_aware_map(lambda p, v: v, {'a': 1})
    tu.t_identity.iterate(1)  # using the module-level identity does not construct anything
