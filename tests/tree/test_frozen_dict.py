"""flaxen.core.frozen_dict: immutability, reprs as the reference prints them, pytree behaviour.

Expected strings and key orders were checked against the reference (flax 0.12.8).
"""

import collections
import copy as pycopy
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from flaxen import core
from flaxen.core import frozen_dict
from flaxen.core.frozen_dict import FrozenDict, copy, freeze, pop, pretty_repr, unfreeze


def test_core_reexports_the_same_objects():
  for name in ('FrozenDict', 'freeze', 'unfreeze', 'copy', 'pop', 'pretty_repr'):
    assert getattr(core, name) is getattr(frozen_dict, name)
  assert frozen_dict.FrozenKeysView and frozen_dict.FrozenValuesView
  assert FrozenDict.__module__ == 'flaxen.core.frozen_dict'


def test_mapping_behaviour_and_deep_freeze():
  src = {'a': 1, 'b': {'c': 2, 'd': {'e': 3}}}
  fd = FrozenDict(src)
  assert isinstance(fd['b'], FrozenDict) and isinstance(fd['b']['d'], FrozenDict)
  assert list(fd) == ['a', 'b'] and len(fd) == 2 and 'a' in fd and 'z' not in fd
  assert fd.get('z', 5) == 5 and fd['b']['d']['e'] == 3
  assert list(fd.keys()) == ['a', 'b'] and list(fd.items())[0] == ('a', 1)
  src['b']['c'] = 100  # the FrozenDict owns its copy
  assert fd['b']['c'] == 2
  assert FrozenDict(a=1) == {'a': 1} and FrozenDict({'x': {'y': 1}}) == {'x': {'y': 1}}
  assert FrozenDict({'a': 1}) != FrozenDict({'a': 2})
  with pytest.raises(KeyError):
    fd['z']


def test_item_assignment_raises_value_error():
  fd = FrozenDict({'params': {'kernel': 1}})
  with pytest.raises(ValueError, match='^FrozenDict is immutable.$'):
    fd['new_key'] = 3
  with pytest.raises(ValueError, match='immutable'):
    fd['params']['kernel'] = 3
  # no __delitem__: Python's own AttributeError, as for the reference's FrozenDict
  with pytest.raises(AttributeError, match='__delitem__'):
    del fd['params']
  with pytest.raises(AttributeError):
    fd.z = 1


def test_hash_is_the_xor_of_the_item_hashes():
  # the reference's formula, so hashes (and anything keyed on them) agree
  assert hash(FrozenDict()) == 0
  assert hash(FrozenDict({1: 2})) == hash((1, 2))
  assert hash(FrozenDict({1: 2, 'a': 'b'})) == hash((1, 2)) ^ hash(('a', 'b'))
  assert hash(FrozenDict({'n': {'m': 1}})) == hash(('n', FrozenDict({'m': 1})))


def test_hash_is_order_independent_and_cached():
  a = freeze({'x': 1, 'y': {'z': 2}})
  b = freeze({'y': {'z': 2}, 'x': 1})
  assert a == b and hash(a) == hash(b)
  assert len({a, b}) == 1
  with pytest.raises(TypeError):
    hash(FrozenDict({'w': [1, 2]}))


def test_repr_matches_the_seeds():
  fd = FrozenDict({'params': {'bias': (5,), 'kernel': (10, 5)}})
  assert repr(fd) == (
    'FrozenDict({\n'
    '    params: {\n'
    '        bias: (5,),\n'
    '        kernel: (10, 5),\n'
    '    },\n'
    '})'
  )
  assert repr(FrozenDict()) == 'FrozenDict({})'
  assert repr(FrozenDict({'a': {}})) == 'FrozenDict({\n    a: {},\n})'
  assert fd.pretty_repr(num_spaces=2) == (
    'FrozenDict({\n  params: {\n    bias: (5,),\n    kernel: (10, 5),\n  },\n})'
  )


def test_repr_indents_multiline_leaves_like_the_seeds():
  # seeds L1373-L1389: continuation lines of an array repr carry the entry's indentation
  fd = FrozenDict({'params': {'bias': np.array([1.5, 2.0], dtype=np.float32)}})
  assert repr(fd) == (
    'FrozenDict({\n'
    '    params: {\n'
    '        bias: array([1.5, 2. ], dtype=float32),\n'
    '    },\n'
    '})'
  )
  k = np.zeros((2, 2), np.float32)
  text = repr(FrozenDict({'params': {'kernel': k}}))
  assert '        kernel: array([[0., 0.],\n               [0., 0.]], dtype=float32),\n' in text


def test_repr_indents_every_line_of_a_leaf_blank_ones_included():
  fd = FrozenDict(a=np.zeros((2, 2, 2)))
  assert repr(fd) == (
    'FrozenDict({\n'
    '    a: array([[[0., 0.],\n'
    '            [0., 0.]],\n'
    '    \n'
    '           [[0., 0.],\n'
    '            [0., 0.]]]),\n'
    '})'
  )
  odd_keys = FrozenDict({'a b': 1, 'c\n': 2, (1, 2): 3})
  assert repr(odd_keys) == 'FrozenDict({\n    a b: 1,\n    c\n    : 2,\n    (1, 2): 3,\n})'
  assert str(odd_keys) == repr(odd_keys) == f'{odd_keys}'


def test_repr_of_mixed_nesting():
  fd = FrozenDict({'b': {'y': 1, 'x': [1, 2]}, 'a': (3, {'q': 4}), 'e': {}, 1: None})
  assert repr(fd) == (
    'FrozenDict({\n    b: {\n        y: 1,\n        x: [1, 2],\n    },\n'
    "    a: (3, {'q': 4}),\n    e: {},\n    1: None,\n})"
  )
  # a FrozenDict inside a list keeps its own repr
  assert repr(FrozenDict(a=[FrozenDict(b=1)])) == (
    'FrozenDict({\n    a: [FrozenDict({\n        b: 1,\n    })],\n})'
  )
  assert repr(FrozenDict(a=collections.OrderedDict(z=1))) == (
    'FrozenDict({\n    a: {\n        z: 1,\n    },\n})'
  )


def test_keys_and_values_views():
  fd = FrozenDict({'b': {'y': 1}, 'a': 2})
  keys, values = fd.keys(), fd.values()
  assert type(keys) is frozen_dict.FrozenKeysView and type(values) is frozen_dict.FrozenValuesView
  assert repr(keys) == "frozen_dict_keys(['b', 'a'])"
  assert repr(FrozenDict(a=1).values()) == 'frozen_dict_values([1])'
  assert repr(values) == 'frozen_dict_values([FrozenDict({\n    y: 1,\n}), 2])'
  assert keys & {'a', 'z'} == {'a'} and keys == {'a', 'b'} and 'a' in keys and len(values) == 2
  assert 2 in values
  for cls in (frozen_dict.FrozenKeysView, frozen_dict.FrozenValuesView):
    assert cls.__module__ == 'flaxen.core.frozen_dict'


def test_tree_map_flattens_sorted_while_printing_keeps_insertion_order():
  params = freeze({'params': {'kernel': jnp.ones((10, 5)), 'bias': jnp.zeros((5,))}})
  assert list(params['params']) == ['kernel', 'bias']
  shapes = jax.tree_util.tree_map(lambda x: x.shape, params)
  assert isinstance(shapes, FrozenDict)
  assert list(shapes['params']) == ['bias', 'kernel']
  assert repr(shapes) == (
    'FrozenDict({\n    params: {\n        bias: (5,),\n        kernel: (10, 5),\n    },\n})'
  )
  paths = [p for p, _ in jax.tree_util.tree_flatten_with_path(params)[0]]
  assert paths == [
    (jax.tree_util.DictKey('params'), jax.tree_util.DictKey('bias')),
    (jax.tree_util.DictKey('params'), jax.tree_util.DictKey('kernel')),
  ]
  assert jax.tree_util.tree_structure(params) == jax.tree_util.tree_structure(
    freeze({'params': {'bias': 0, 'kernel': 0}}))


def test_flattening_is_cached_and_stable():
  fd = FrozenDict({'b': 1, 'a': 2})
  leaves1, tree1 = jax.tree_util.tree_flatten(fd)
  leaves2, tree2 = jax.tree_util.tree_flatten(fd)
  assert leaves1 == leaves2 == [2, 1] and tree1 == tree2
  assert jax.tree_util.tree_unflatten(tree1, [20, 10]) == {'a': 20, 'b': 10}


def test_tree_map_returning_dicts_refreezes():
  out = jax.tree_util.tree_map(lambda x: {'v': x}, FrozenDict({'a': 1}))
  assert isinstance(out['a'], FrozenDict)
  with pytest.raises(ValueError):
    out['a']['v'] = 2


def test_jit_and_grad_over_frozen_dict():
  params = freeze({'w': jnp.array(2.0), 'sub': {'b': jnp.array(1.0)}})

  @jax.jit
  def loss(p, x):
    return p['w'] * x + p['sub']['b']

  assert float(loss(params, 3.0)) == 7.0
  grads = jax.grad(loss)(params, 3.0)
  assert isinstance(grads, FrozenDict)
  assert float(grads['w']) == 3.0 and float(grads['sub']['b']) == 1.0
  out = jax.jit(lambda p: p)(params)
  assert isinstance(out, FrozenDict) and isinstance(out['sub'], FrozenDict)


def test_copy_and_pop_methods():
  fd = FrozenDict({'a': 1, 'b': {'c': 2}})
  new = fd.copy({'d': {'e': 5}, 'a': 0})
  assert new == {'a': 0, 'b': {'c': 2}, 'd': {'e': 5}} and isinstance(new['d'], FrozenDict)
  assert fd == {'a': 1, 'b': {'c': 2}}
  assert fd.copy() == fd
  state, b = fd.pop('b')
  assert isinstance(state, FrozenDict) and state == {'a': 1}
  assert b == {'c': 2} and isinstance(b, FrozenDict)
  assert 'b' in fd
  with pytest.raises(KeyError):
    fd.pop('zzz')


def test_copy_method_follows_the_reference():
  # additions go through unfreeze: a FrozenDict addition comes in with sorted keys
  added = FrozenDict(a=1).copy(FrozenDict(c={'z': 1, 'b': 2}, b=3))
  assert list(added) == ['a', 'b', 'c'] and list(added['c']) == ['b', 'z']
  kept = FrozenDict(a=1).copy({'c': {'z': 1, 'b': 2}, 'b': 3})  # a plain dict keeps its order
  assert list(kept) == ['a', 'c', 'b'] and list(kept['c']) == ['z', 'b']
  sub = type('Sub', (FrozenDict,), {})
  assert type(sub(a=1).copy({'b': 2})) is sub and type(sub(a=1, b=2).pop('a')[0]) is sub


def test_unfreeze_sorts_frozen_levels_like_a_tree_map():
  fd = FrozenDict({'b': 1, 'a': {'d': [1, {'z': 1, 'y': 2}], 'c': None}})
  out = fd.unfreeze()
  assert out == {'a': {'c': None, 'd': [1, {'y': 2, 'z': 1}]}, 'b': 1}
  assert list(out) == ['a', 'b'] and list(out['a']) == ['c', 'd']
  assert list(out['a']['d'][1]) == ['y', 'z']  # dicts inside lists are rebuilt too
  leaf = np.arange(2)
  assert unfreeze(FrozenDict(w=leaf))['w'] is leaf  # leaves are shared
  in_list = unfreeze(FrozenDict({'b': [FrozenDict(z=1, a=2)]}))['b'][0]
  assert type(in_list) is FrozenDict and list(in_list) == ['a', 'z']
  # a plain dict keeps its own order; FrozenDicts inside it are unfrozen sorted
  mixed = unfreeze({'b': 1, 'a': FrozenDict({'d': 1, 'c': 2}), 'e': {'g': 1, 'f': 2}})
  assert list(mixed) == ['b', 'a', 'e'] and list(mixed['a']) == ['c', 'd']
  assert list(mixed['e']) == ['g', 'f']


def test_unfreeze_method_and_function():
  fd = FrozenDict({'a': {'b': {'c': 1}}})
  d = fd.unfreeze()
  assert type(d) is dict and type(d['a']) is dict and type(d['a']['b']) is dict
  d['a']['b']['c'] = 2
  assert fd['a']['b']['c'] == 1
  plain = {'x': {'y': 1}}
  again = unfreeze(plain)
  assert again == plain and again is not plain and again['x'] is not plain['x']
  assert unfreeze(3) == 3
  mixed = unfreeze({'f': FrozenDict({'g': 1})})
  assert type(mixed['f']) is dict


def test_freeze_function():
  fd = freeze({'a': {'b': 1}})
  assert isinstance(fd, FrozenDict) and isinstance(fd['a'], FrozenDict)
  assert freeze(fd) is fd


def test_module_copy_and_pop_on_dicts_and_frozen_dicts():
  d = {'a': 1, 'b': {'c': 2}}
  new = copy(d, {'z': 3})
  assert type(new) is dict and new == {'a': 1, 'b': {'c': 2}, 'z': 3} and 'z' not in d
  fnew = copy(freeze(d), {'z': 3})
  assert isinstance(fnew, FrozenDict) and fnew == new
  rest, val = pop(d, 'a')
  assert rest == {'b': {'c': 2}} and val == 1 and 'a' in d
  frest, fval = pop(freeze(d), 'a')
  assert isinstance(frest, FrozenDict) and fval == 1
  with pytest.raises(TypeError, match=r"^Expected FrozenDict or dict, got <class 'list'>$"):
    copy([1], {})
  with pytest.raises(TypeError, match=r"^Expected FrozenDict or dict, got <class 'tuple'>$"):
    pop((1,), 0)
  with pytest.raises(KeyError):
    pop({'a': 1}, 'zz')


def test_module_copy_and_pop_on_dicts_rebuild_them_like_a_tree_map():
  leaf_list = [2]
  d = {'b': {'y': 1, 'x': 2}, 'a': 3, 'f': FrozenDict(k={'j': 1}), 'n': None, 't': (1, leaf_list)}
  new = copy(d, {'c': 1, 'a': 0})
  assert list(new) == ['a', 'b', 'f', 'n', 't', 'c'] and list(new['b']) == ['x', 'y']
  assert type(new['f']) is FrozenDict and new['n'] is None
  assert new['t'][1] == [2] and new['t'][1] is not leaf_list and new['b'] is not d['b']
  rest, value = pop({'c': 1, 'b': 1, 'a': {'d': 1, 'c': 2}}, 'b')
  assert value == 1 and list(rest) == ['a', 'c'] and list(rest['a']) == ['c', 'd']
  ordered = copy(collections.OrderedDict(b=1, a=2))
  assert type(ordered) is collections.OrderedDict and list(ordered) == ['b', 'a']
  assert list(copy({'a': 1}, FrozenDict(b={'c': 1}))) == ['a', 'b']


def test_pretty_repr_function():
  assert pretty_repr({'a': 1, 'b': {'c': 'x'}}) == "{\n    a: 1,\n    b: {\n        c: 'x',\n    },\n}"
  assert pretty_repr({}) == '{}'
  assert pretty_repr([1, 2]) == '[1, 2]' and pretty_repr(3) == '3'
  assert pretty_repr([{'a': 1}]) == "[{'a': 1}]"
  assert pretty_repr({'b': {'y': 1}}, 0) == '{\nb: {\ny: 1,\n},\n}'
  # as in the reference, a FrozenDict ignores num_spaces here (its method honours it)
  assert pretty_repr(FrozenDict({'a': 1}), num_spaces=1) == 'FrozenDict({\n    a: 1,\n})'
  assert FrozenDict({'a': 1}).pretty_repr(num_spaces=1) == 'FrozenDict({\n a: 1,\n})'
  # inside a plain dict a FrozenDict prints as its own repr, indented as a unit
  assert pretty_repr({'z': FrozenDict({'b': {'y': 1}}), 'e': {}}) == (
    '{\n    z: FrozenDict({\n        b: {\n            y: 1,\n        },\n    }),\n    e: {},\n}'
  )


def test_pickle_and_copy_module():
  fd = FrozenDict({'a': np.arange(3), 'b': {'c': 1}})
  back = pickle.loads(pickle.dumps(fd))
  assert isinstance(back, FrozenDict) and isinstance(back['b'], FrozenDict)
  np.testing.assert_array_equal(back['a'], np.arange(3))
  assert back['b'] == {'c': 1}
  shallow = pycopy.copy(fd)
  assert shallow == fd and type(shallow) is FrozenDict
  deep = pycopy.deepcopy(fd)
  assert isinstance(deep, FrozenDict) and deep['a'] is not fd['a']
  # pickles carry the unfrozen contents, whose keys are sorted (as the reference's)
  unsorted = FrozenDict({'b': {'y': 1, 'x': 2}, 'a': 1})
  for again in (pickle.loads(pickle.dumps(unsorted)), pycopy.deepcopy(unsorted),
                pycopy.copy(unsorted)):
    assert list(again) == ['a', 'b'] and list(again['b']) == ['x', 'y']


def test_unsafe_skip_copy_keeps_the_given_dict():
  inner = {'x': 1}
  fd = FrozenDict({'i': inner}, __unsafe_skip_copy__=True)
  # not copied (the caller promised not to write to it), read back frozen as in the reference
  assert isinstance(fd['i'], FrozenDict) and fd['i'] == {'x': 1}
  inner['x'] = 2
  assert fd['i']['x'] == 2


def test_storage_and_treedef_are_the_references():
  # one FrozenDict node at the top, nested levels are plain dicts inside it: the treedef
  # prints as the reference's, and ``is_leaf`` sees the nested levels as dicts
  fd = FrozenDict({'b': {'c': 1}, 'a': 2})
  assert str(jax.tree_util.tree_structure(fd)) == (
    "PyTreeDef(CustomNode(FrozenDict[('a', 'b')], [*, {'c': *}]))")
  seen = []
  jax.tree_util.tree_map(lambda x: x, fd, is_leaf=lambda x: seen.append(type(x)) or False)
  assert dict in seen and seen.count(FrozenDict) == 1
  # equal trees built from FrozenDicts or dicts at any level have equal treedefs
  mixed = FrozenDict({'a': 2, 'b': FrozenDict({'c': 1})})
  assert jax.tree_util.tree_structure(mixed) == jax.tree_util.tree_structure(fd)


def test_nested_levels_read_frozen_and_stay_consistent():
  fd = freeze({'p': {'q': {'r': 1}}})
  assert isinstance(fd['p'], FrozenDict) and isinstance(fd.get('p')['q'], FrozenDict)
  assert fd['p'] is fd['p']  # one view per key, so its caches stay warm
  assert all(isinstance(v, FrozenDict) for v in fd.values())
  assert all(isinstance(v, FrozenDict) for _, v in fd.items())
  assert repr(FrozenDict({'a': 1}).items()) == "frozen_dict_items([('a', 1)])"
  assert hash(fd) == hash(freeze({'p': {'q': {'r': 1}}}))
  # a plain dict given to the constructor is copied: later writes do not show
  source = {'x': {'y': 1}}
  frozen = FrozenDict(source)
  source['x']['y'] = 2
  assert frozen['x']['y'] == 1


def test_generic_subscript_for_annotations():
  alias = FrozenDict[str, int]
  assert alias.__origin__ is FrozenDict
