"""flaxen.core.frozen_dict: immutability, reprs as printed in the seeds, pytree behaviour."""

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
  with pytest.raises(ValueError, match='immutable'):
    del fd['params']


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
  with pytest.raises(TypeError):
    copy([1], {})
  with pytest.raises(TypeError):
    pop((1,), 0)


def test_pretty_repr_function():
  assert pretty_repr({'a': 1, 'b': {'c': 'x'}}) == "{\n    a: 1,\n    b: {\n        c: 'x',\n    },\n}"
  assert pretty_repr({}) == '{}'
  assert pretty_repr([1, 2]) == '[1, 2]'
  assert pretty_repr(FrozenDict({'a': 1}), num_spaces=1) == 'FrozenDict({\n a: 1,\n})'


def test_pickle_and_copy_module():
  fd = FrozenDict({'a': np.arange(3), 'b': {'c': 1}})
  back = pickle.loads(pickle.dumps(fd))
  assert isinstance(back, FrozenDict) and isinstance(back['b'], FrozenDict)
  np.testing.assert_array_equal(back['a'], np.arange(3))
  assert back['b'] == {'c': 1}
  assert pycopy.copy(fd) is fd
  deep = pycopy.deepcopy(fd)
  assert isinstance(deep, FrozenDict) and deep['a'] is not fd['a']


def test_unsafe_skip_copy_keeps_the_given_dict():
  inner = {'x': 1}
  fd = FrozenDict({'i': inner}, __unsafe_skip_copy__=True)
  assert fd['i'] is inner


def test_generic_subscript_for_annotations():
  alias = FrozenDict[str, int]
  assert alias.__origin__ is FrozenDict
