"""flaxen._src.linen.module.dataclass: the per-subclass dataclass transform of Modules."""

import dataclasses
import gc
import weakref
from typing import Any, Optional

import jax
import jax.numpy as jnp
import pytest

from flaxen import errors
from flaxen import linen as nn

KEY = jax.random.key(0)


class Base(nn.Module):
  a: int
  b: int = 2


class Middle(Base, kw_only=True):
  c: int
  d: int = 4


class Leaf(Middle):
  e: int = 5


def _names(cls):
  return [f.name for f in dataclasses.fields(cls)]


def test_parent_and_name_stay_last_through_inheritance():
  assert _names(Base) == ['a', 'b', 'parent', 'name']
  assert _names(Middle) == ['a', 'b', 'c', 'd', 'parent', 'name']
  assert _names(Leaf) == ['a', 'b', 'c', 'd', 'e', 'parent', 'name']
  for cls in (Base, Middle, Leaf):
    by_name = {f.name: f for f in dataclasses.fields(cls)}
    assert by_name['parent'].kw_only and by_name['name'].kw_only
    assert by_name['name'].default is None


def test_bases_keep_their_own_reserved_fields():
  # defining subclasses must not strip parent/name from the bases' field tables
  assert 'parent' in Base.__dataclass_fields__ and 'name' in Base.__dataclass_fields__
  assert Base(1, name='x').name == 'x'
  assert Middle(1, c=3, name='y').name == 'y'


def test_kw_only_applies_to_own_fields_only():
  m = Middle(1, 7, c=3)
  assert (m.a, m.b, m.c, m.d) == (1, 7, 3, 4)
  with pytest.raises(TypeError):
    Middle(1, 7, 3)  # c is keyword-only
  leaf = Leaf(1, 2, 9, c=3)  # e (own field of Leaf) is positional again
  assert (leaf.e, leaf.c) == (9, 3)
  # a required field after defaulted ones is legal in a kw_only class
  assert Middle(0, c=1).c == 1


def test_reserved_attribute_annotations():
  with pytest.raises(errors.ReservedModuleAttributeError) as info:
    class P(nn.Module):
      parent: Any = None
  assert 'parent' in info.value.annotations

  with pytest.raises(errors.ReservedModuleAttributeError) as info:
    class N(nn.Module):
      name: int = 3
  assert info.value.annotations['name'] is int

  class StrName(nn.Module):
    name: str

  class OptName(nn.Module):
    size: int = 1
    name: Optional[str] = None  # noqa: UP045

  assert _names(StrName) == ['parent', 'name']
  assert _names(OptName) == ['size', 'parent', 'name']
  assert OptName(2, name='o').name == 'o'


def test_init_false_fields_are_not_compared_hashed_or_shown():
  class WithCache(nn.Module):
    size: int = 1
    cache: int = dataclasses.field(init=False, default=0)

  a, b = WithCache(3), WithCache(3)
  object.__setattr__(b, 'cache', 99)
  assert a == b and hash(a) == hash(b)
  assert 'cache' not in repr(b) and 'size = 3' in repr(b)
  assert WithCache(4) != a
  assert 'cache' not in [f.name for f in dataclasses.fields(WithCache) if f.init]


def test_hash_errors_are_clear():
  class Holder(nn.Module):
    table: Any = None

  with pytest.raises(TypeError, match='unhashable attributes'):
    hash(Holder(table={'a': 1}))
  assert hash(Holder(table=(1, 2))) == hash(Holder(table=(1, 2)))
  bound = Holder().bind({})
  with pytest.raises(TypeError, match='hold variables'):
    hash(bound)


def test_user_defined_hash_is_kept_but_still_guarded():
  class Custom(nn.Module):
    x: int = 0

    def __hash__(self):
      return 1234

  assert hash(Custom(5)) == 1234
  with pytest.raises(TypeError, match='hold variables'):
    hash(Custom().bind({}))


def test_repr_is_module_repr_not_dataclass_repr():
  r = repr(Base(1))
  assert r.startswith('Base(') and '# attributes' in r and 'a = 1' in r
  assert 'parent=' not in r


def test_post_init_must_call_super():
  class Good(nn.Module):
    x: float = 2.0

    def __post_init__(self):
      object.__setattr__(self, 'sq', self.x ** 2)
      super().__post_init__()

    @nn.compact
    def __call__(self, y):
      return y * self.sq

  class Bad(Good):
    def __post_init__(self):
      object.__setattr__(self, 'sq', 1.0)

  assert Good(3.0).apply({}, jnp.ones(1)).tolist() == [9.0]
  with pytest.raises(errors.IncorrectPostInitOverrideError):
    Bad().init(KEY, jnp.ones(1))


def test_parent_field_is_weak_and_plain_values_stored_as_is():
  assert Base(1, parent=None).parent is None
  kept = []

  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
      inner = nn.Dense(2)
      kept.append(inner)
      assert inner.parent is self
      return inner(x)

  Outer().init(KEY, jnp.ones((1, 2)))
  assert isinstance(vars(kept[0])['_parent_ref'], weakref.ReferenceType)
  gc.collect()
  # the bound Outer made by init is gone: the child kept only a weak reference to it
  assert kept[0].parent is None
