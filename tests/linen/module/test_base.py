"""flaxen._src.linen.module.base: the ``ModuleBase`` marker and the unspecified-parent sentinel."""

import copy
import dataclasses
import pickle

import jax
import jax.numpy as jnp

from flaxen import linen as nn
from flaxen._src.linen.module.base import UNSPECIFIED_PARENT, ModuleBase


def test_every_module_is_a_module_base():
  assert issubclass(nn.Module, ModuleBase)
  assert isinstance(nn.Dense(3), ModuleBase)
  assert isinstance(nn.Sequential([nn.relu]), ModuleBase)
  assert not isinstance(object(), ModuleBase)
  assert ModuleBase.__slots__ == ()  # adds no per-instance storage


def test_sentinel_is_the_parent_default():
  by_name = {f.name: f for f in dataclasses.fields(nn.Dense)}
  assert by_name['parent'].default is UNSPECIFIED_PARENT
  assert repr(UNSPECIFIED_PARENT) == '_unspecified_parent'


def test_sentinel_is_a_singleton_under_copy_and_pickle():
  assert copy.copy(UNSPECIFIED_PARENT) is UNSPECIFIED_PARENT
  assert copy.deepcopy(UNSPECIFIED_PARENT) is UNSPECIFIED_PARENT
  assert pickle.loads(pickle.dumps(UNSPECIFIED_PARENT)) is UNSPECIFIED_PARENT
  assert copy.deepcopy({'p': UNSPECIFIED_PARENT})['p'] is UNSPECIFIED_PARENT


def test_sentinel_is_resolved_from_the_module_stack():
  top = nn.Dense(3)
  assert top.parent is None  # nothing running: no parent
  parents = []

  class Outer(nn.Module):
    @nn.compact
    def __call__(self, x):
      child = nn.Dense(2)
      parents.append(child.parent is self)
      return child(x)

  Outer().init(jax.random.key(0), jnp.ones((1, 2)))
  assert parents == [True]
  # an explicit parent=None detaches even inside a running module
  detached = []

  class Outer2(nn.Module):
    @nn.compact
    def __call__(self, x):
      d = nn.Dense(2, parent=None)
      detached.append((d.parent, d.scope))
      return x

  Outer2().init(jax.random.key(0), jnp.ones((1, 2)))
  assert detached == [(None, None)]
