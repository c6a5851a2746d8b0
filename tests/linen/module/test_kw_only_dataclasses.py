"""flaxen.linen.kw_only_dataclasses: keyword-only fields (inherited ones too) come last."""

import dataclasses
import inspect
import pickle

import pytest

from flaxen import linen as nn
from flaxen.linen import kw_only_dataclasses as kw


@kw.dataclass
class Parent:
  name: str = kw.field(default='', kw_only=True)


@kw.dataclass
class Child(Parent):
  size: float  # required, after a base field with a default


def test_inherited_keyword_only_field_moves_last():
  assert [f.name for f in dataclasses.fields(Child)] == ['size', 'name']
  assert list(inspect.signature(Child.__init__).parameters) == ['self', 'size', 'name']
  assert repr(Child(2.0, name='n')) == "Child(size=2.0, name='n')"
  with pytest.raises(TypeError, match=r'__init__\(\) takes 2 positional arguments but 3 were given'):
    Child(2.0, 'n')


def test_keyword_only_field_needs_a_default():
  with pytest.raises(ValueError, match='Keyword-only fields with no default are not supported.'):
    kw.field(kw_only=True)
  assert kw.field(default=1).metadata.get(kw.KW_ONLY) is None
  assert kw.field(default=1, kw_only=True).metadata[kw.KW_ONLY] is True


def test_kw_only_marker_tags_the_following_fields():
  @kw.dataclass
  class Marked:
    a: int
    _: kw.KW_ONLY
    b: int = 3
    c: int = kw.field(default=4)

  assert [(f.name, f.metadata.get(kw.KW_ONLY)) for f in dataclasses.fields(Marked)] == [
    ('a', None), ('b', True), ('c', True)]
  assert Marked(1, c=5) == Marked(a=1, b=3, c=5)
  assert repr(kw.KW_ONLY) == 'KW_ONLY'
  assert pickle.loads(pickle.dumps(kw.KW_ONLY)) is kw.KW_ONLY


def test_marker_errors():
  with pytest.raises(ValueError, match='no default'):
    @kw.dataclass
    class NoDefault:
      _: kw.KW_ONLY
      b: int

  with pytest.raises(TypeError, match='Multiple KW_ONLY markers'):
    @kw.dataclass
    class Twice:
      _: kw.KW_ONLY
      a: int = 1
      __: kw.KW_ONLY
      b: int = 2


def test_extra_fields_and_decorator_form():
  @kw.dataclass(extra_fields=[('tag', str, kw.field(default='t', kw_only=True))], frozen=True)
  class WithExtra:
    x: int

  assert [f.name for f in dataclasses.fields(WithExtra)] == ['x', 'tag']
  assert WithExtra(1).tag == 't'
  with pytest.raises(ValueError, match='extra_fields'):
    kw.dataclass(type('Bad', (), {}), extra_fields=[('tag', str, 3)])


def test_module_fields_tagged_keyword_only_come_before_parent_and_name():
  class Base(nn.Module):
    dropout: float = kw.field(default=0.1, kw_only=True)

  class Head(Base):
    features: int

  assert [f.name for f in dataclasses.fields(Head)] == ['features', 'dropout', 'parent', 'name']
  assert Head(3).dropout == 0.1 and Head(3, dropout=0.5).dropout == 0.5
  with pytest.raises(TypeError, match='positional'):
    Head(3, 0.5)


def test_module_kw_only_class_keyword():
  class A(nn.Module, kw_only=True):
    a: int
    b: int = 2

  class B(A):
    c: int

  assert A(a=1).b == 2
  with pytest.raises(TypeError, match='positional'):
    A(1)
  b = B(3, a=1)
  assert (b.a, b.b, b.c) == (1, 2, 3)
