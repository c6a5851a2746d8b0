"""fingerprint: what makes two module configurations interchangeable for nn.jit."""

import dataclasses
import functools
import gc

import jax.numpy as jnp
import numpy as np

from flaxen import linen as nn
from flaxen._src.linen.transforms.fingerprint import Identity, fingerprint


def test_modules_compare_by_class_and_fields_not_name():
  assert fingerprint(nn.Dense(3)) == fingerprint(nn.Dense(3, name='other'))
  assert fingerprint(nn.Dense(3)) != fingerprint(nn.Dense(4))
  assert fingerprint(nn.Dense(3)) != fingerprint(nn.DenseGeneral(3))
  hash(fingerprint(nn.Dense(3)))


def test_containers_dataclasses_and_partials_compare_by_content():
  @dataclasses.dataclass
  class Cfg:
    a: list

  assert fingerprint(Cfg([1, 2])) == fingerprint(Cfg([1, 2]))
  assert fingerprint(Cfg([1, 2])) != fingerprint(Cfg([1, 3]))
  assert fingerprint({'a': [1, {2}]}) == fingerprint({'a': [1, {2}]})
  assert fingerprint([1]) != fingerprint((1,))
  f = functools.partial(max, 1, key=abs)
  assert fingerprint(f) == fingerprint(functools.partial(max, 1, key=abs))
  assert fingerprint(f) != fingerprint(functools.partial(max, 2, key=abs))


def test_arrays_compare_by_identity_and_are_held_weakly():
  a = np.ones(3)
  assert fingerprint(a) == fingerprint(a)
  assert fingerprint(a) != fingerprint(np.ones(3))
  key = fingerprint(jnp.ones(2))
  assert isinstance(key, Identity)
  gc.collect()
  assert key.get() is None and key != key  # a dead object equals nothing
