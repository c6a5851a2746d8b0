"""flaxen.struct: pytree dataclasses, static fields, replace, kw_only, PyTreeNode.

Behaviours marked "reference" were checked against flax 0.12.8.
"""

import dataclasses
import functools
import os
import pathlib
import pickle
import subprocess
import sys
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import jax
import jax.numpy as jnp
import pytest

from flaxen import serialization, struct

T = TypeVar('T')


@struct.dataclass
class Model:
  params: Any
  apply_fn: Callable = struct.field(pytree_node=False)
  step: int = 0


@struct.dataclass(kw_only=True)
class KwOnly:
  a: int
  b: int = 2


class Node(struct.PyTreeNode):
  w: Any
  name: str = struct.field(pytree_node=False, default='node')


class KwNode(struct.PyTreeNode, kw_only=True):
  x: Any
  tag: str = struct.field(pytree_node=False, default='t')


def _double(x):
  return 2 * x


def test_leaves_exclude_static_fields_and_keys_are_attributes():
  m = Model({'w': jnp.ones(2)}, _double, step=3)
  leaves, treedef = jax.tree_util.tree_flatten(m)
  assert len(leaves) == 2  # params['w'] and step; apply_fn is aux data
  paths = [p for p, _ in jax.tree_util.tree_flatten_with_path(m)[0]]
  assert paths[0][0] == jax.tree_util.GetAttrKey('params')
  assert paths[1] == (jax.tree_util.GetAttrKey('step'),)
  rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
  assert rebuilt.apply_fn is _double and rebuilt.step == 3


def test_frozen_and_replace():
  m = Model({'w': 1}, _double)
  with pytest.raises(dataclasses.FrozenInstanceError):
    m.step = 1
  m2 = m.replace(step=5)
  assert m2.step == 5 and m.step == 0 and m2.apply_fn is _double
  assert dataclasses.is_dataclass(m) and Model.__dataclass_params__.frozen


def test_replace_takes_keywords_only_and_is_named_like_the_reference():
  m = Model({'w': 1}, _double)
  # Python's own message names the method; it reads as the reference's does
  with pytest.raises(TypeError, match=r'^dataclass\.<locals>\.replace\(\) takes 1 positional'):
    m.replace(3)
  assert Model.replace.__name__ == 'replace'


def test_jit_and_tree_map():
  m = Model({'w': jnp.arange(3.0)}, _double)

  @jax.jit
  def step(m):
    return m.replace(params=jax.tree_util.tree_map(m.apply_fn, m.params), step=m.step + 1)

  out = step(m)
  assert isinstance(out, Model) and out.apply_fn is _double
  assert out.params['w'].tolist() == [0.0, 2.0, 4.0] and int(out.step) == 1
  grads = jax.grad(lambda m: jnp.sum(m.params['w'] ** 2))(m.replace(step=0.0))
  assert isinstance(grads, Model) and grads.params['w'].tolist() == [0.0, 2.0, 4.0]


def test_static_fields_are_part_of_the_treedef():
  a = jax.tree_util.tree_structure(Node(1.0, name='a'))
  b = jax.tree_util.tree_structure(Node(1.0, name='b'))
  assert a != b
  assert jax.tree_util.tree_structure(Node(2.0, name='a')) == a


def test_kw_only():
  assert KwOnly(a=1).b == 2
  with pytest.raises(TypeError):
    KwOnly(1)
  k = KwNode(x=jnp.ones(()))
  assert k.tag == 't' and jax.tree_util.tree_leaves(k) == [k.x]
  with pytest.raises(TypeError):
    KwNode(1.0)


def test_pytree_node_subclasses_are_struct_dataclasses():
  n = Node(w=jnp.zeros(2))
  assert jax.tree_util.tree_leaves(n)[0].shape == (2,)
  assert n.replace(w=1).w == 1
  with pytest.raises(dataclasses.FrozenInstanceError):
    n.w = 3

  class Child(Node):
    extra: int = 1

  c = Child(w=0.0)
  assert len(jax.tree_util.tree_leaves(c)) == 2
  assert jax.tree_util.tree_map(lambda v: v + 1, c) == Child(w=1.0, extra=2)


def test_decorator_is_idempotent_and_marks_the_class():
  assert struct.dataclass(Model) is Model
  assert Model.__flaxen_struct__ is True
  assert Model.__flaxen_data_fields__ == ('params', 'step')
  assert Model.__flaxen_meta_fields__ == ('apply_fn',)
  fields = {f.name: f for f in dataclasses.fields(Model)}
  assert fields['apply_fn'].metadata['pytree_node'] is False
  assert fields['params'].metadata.get('pytree_node', True) is True


def test_field_keeps_extra_metadata_and_kwargs():
  f = struct.field(pytree_node=False, default=3, metadata={'doc': 'x'})
  assert f.default == 3 and f.metadata['doc'] == 'x' and f.metadata['pytree_node'] is False
  # the pytree_node argument wins over a pytree_node key in metadata (reference)
  assert struct.field(metadata={'pytree_node': False}).metadata['pytree_node'] is True


def test_frozen_false_makes_a_mutable_pytree():
  # reference: frozen=False is passed on to dataclasses
  @struct.dataclass(frozen=False)
  class Loose:
    x: Any
    y: int = struct.field(pytree_node=False, default=2)

  a = Loose(1)
  a.x = 5
  assert a == Loose(5) and jax.tree_util.tree_leaves(a) == [5]
  assert Loose.__dataclass_params__.frozen is False and Loose.__hash__ is None
  assert jax.tree_util.tree_map(lambda v: v + 1, a) == Loose(6)
  assert serialization.to_state_dict(a) == {'x': 5}
  assert serialization.from_state_dict(a, {'x': 9}) == Loose(9)

  class Node2(struct.PyTreeNode, frozen=False):
    x: int

  n = Node2(1)
  n.x = 3
  assert n.x == 3 and n.replace(x=4).x == 4


def test_slots():
  @struct.dataclass(slots=True)
  class Slotted:
    x: Any
    y: int = struct.field(pytree_node=False, default=2)

  s = Slotted(1)
  assert Slotted.__slots__ == ('x', 'y') and not hasattr(s, '__dict__')
  assert jax.tree_util.tree_leaves(s) == [1]
  assert jax.tree_util.tree_map(lambda v: v + 1, s) == Slotted(2)
  assert s.replace(x=3) == Slotted(3) and Slotted._flax_dataclass is True
  # reference: slots=True on a PyTreeNode subclass fails inside dataclasses itself
  with pytest.raises(TypeError, match='Cannot overwrite attribute __setattr__'):
    class SlottedNode(struct.PyTreeNode, slots=True):
      x: int


def test_generic_pytree_node_subclasses():
  class Box(struct.PyTreeNode, Generic[T]):
    value: T
    tag: str = struct.field(pytree_node=False, default='t')

  b = Box[int](3)
  assert type(b) is Box and b == Box(3) and Box.__parameters__ == (T,)
  assert jax.tree_util.tree_leaves(b) == [3]
  assert jax.tree_util.tree_map(lambda v: v * 2, b) == Box(6)
  assert b.replace(value=4) == Box(4)

  class IntBox(Box[int]):
    extra: int = 0

  i = IntBox(3, extra=4)
  assert jax.tree_util.tree_leaves(i) == [3, 4] and i.tag == 't'

  @struct.dataclass
  class Pair(Generic[T]):
    first: T

  assert Pair[int](3) == Pair(3) and jax.tree_util.tree_leaves(Pair(1)) == [1]


def test_init_subclass_of_other_bases_still_runs():
  class Base(struct.PyTreeNode):
    def __init_subclass__(cls, flag=None, **kw):
      super().__init_subclass__(**kw)
      cls.flag = flag

  class A(Base, flag=3):
    x: int

  assert A(1).x == 1 and A.flag == 3


def test_rewrapping_and_subclasses():
  @struct.dataclass
  class A:
    x: int

  assert struct.dataclass(A) is A and struct.dataclass(kw_only=True)(A) is A
  assert A._flax_dataclass is True

  class Undecorated(A):  # not a pytree of its own until decorated (reference)
    y: int = 0

  u = Undecorated(1)
  assert jax.tree_util.tree_leaves(u) == [u] and '_flax_dataclass' not in Undecorated.__dict__

  @struct.dataclass
  class B(A):
    y: int = 0

  assert jax.tree_util.tree_leaves(B(1, 2)) == [1, 2] and B._flax_dataclass is True


def test_decorator_factory_and_base_stubs():
  factory = struct.dataclass(frozen=True)
  assert isinstance(factory, functools.partial)
  with pytest.raises(NotImplementedError):
    struct.PyTreeNode()
  assert callable(struct.PyTreeNode.replace)
  with pytest.raises(NotImplementedError):
    struct.PyTreeNode.replace(object())


def test_dataclass_transform_markers():
  for obj in (struct.dataclass, struct.PyTreeNode):
    spec = obj.__dataclass_transform__
    assert spec['field_specifiers'] == (struct.field,)
    assert spec['eq_default'] is True and spec['kw_only_default'] is False


def test_non_init_fields_are_recomputed_not_flattened():
  @struct.dataclass
  class WithDerived:
    a: Any
    double: Any = dataclasses.field(init=False)

    def __post_init__(self):
      object.__setattr__(self, 'double', 2 * self.a)

  w = WithDerived(2)
  assert jax.tree_util.tree_leaves(w) == [2]
  assert jax.tree_util.tree_map(lambda x: x + 1, w).double == 6


def test_pickle_roundtrip():
  n = Node(w=[1, 2], name='p')
  assert pickle.loads(pickle.dumps(n)) == n


SNIPPET = '''
from flaxen import struct


@struct.dataclass
class A:
  x: int
  y: str = struct.field(pytree_node=False, default='a')


class B(struct.PyTreeNode):
  w: float


A(x=1, y='b')
B(w=1.0).replace(w=2.0)
A(z=1)
B(1.0, 2.0)
'''


def test_type_checkers_see_the_generated_init(tmp_path):
  # dataclass_transform on struct.dataclass and PyTreeNode: a type checker knows the fields
  pytest.importorskip('mypy')
  root = pathlib.Path(__file__).resolve().parents[2]
  (tmp_path / 'snippet.py').write_text(SNIPPET)
  out = subprocess.run(
    [sys.executable, '-m', 'mypy', '--follow-imports=silent', '--no-incremental',
     '--cache-dir', str(tmp_path / 'cache'), str(tmp_path / 'snippet.py')],
    capture_output=True, text=True, timeout=300, cwd=tmp_path,
    env={**os.environ, 'MYPYPATH': str(root)},
  )
  errors = [line for line in out.stdout.splitlines() if ': error:' in line]
  assert len(errors) == 2, out.stdout
  assert 'error: Unexpected keyword argument "z" for "A"' in errors[0]
  assert 'error: Too many arguments for "B"' in errors[1]
