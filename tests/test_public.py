"""flaxen._src.public: ``set_module`` and the public identity of every public class."""

import importlib
import inspect
import pickle
import pkgutil
import sys
import types

import pytest

from flaxen._src.public import set_module

FACADES = ['flaxen.linen', 'flaxen.core', 'flaxen.struct', 'flaxen.errors',
           'flaxen.serialization', 'flaxen.traverse_util']
for _pkg in ('flaxen.linen', 'flaxen.core', 'flaxen.training'):
  for _info in pkgutil.iter_modules(importlib.import_module(_pkg).__path__, _pkg + '.'):
    FACADES.append(_info.name)


def _public_objects(predicate):
  seen = {}
  for modname in FACADES:
    mod = importlib.import_module(modname)
    for name in dir(mod):
      obj = getattr(mod, name)
      if name.startswith('_') or not predicate(obj):
        continue
      if getattr(obj, '__module__', '').startswith('flaxen'):
        seen.setdefault(id(obj), (f'{modname}.{name}', obj))
  return sorted(seen.values(), key=lambda t: t[0])


CLASSES = _public_objects(inspect.isclass)
FUNCTIONS = _public_objects(inspect.isfunction)


def test_set_module_rewrites_module_and_returns_object():
  @set_module('flaxen.somewhere')
  class Thing:
    pass

  @set_module('flaxen.elsewhere')
  def fn():
    return 3

  assert Thing.__module__ == 'flaxen.somewhere' and Thing.__name__ == 'Thing'
  assert fn.__module__ == 'flaxen.elsewhere' and fn() == 3
  assert repr(Thing).startswith("<class 'flaxen.somewhere.")


def test_set_module_makes_pickle_resolve_through_public_module():
  mod = types.ModuleType('flaxen_public_probe')
  sys.modules['flaxen_public_probe'] = mod
  try:
    @set_module('flaxen_public_probe')
    class Probe:
      pass

    Probe.__qualname__ = 'Probe'
    with pytest.raises(pickle.PicklingError):
      pickle.dumps(Probe)  # not yet reachable under its public module
    mod.Probe = Probe
    assert pickle.loads(pickle.dumps(Probe)) is Probe
  finally:
    del sys.modules['flaxen_public_probe']


def test_collected_enough_classes():
  names = {path.rsplit('.', 1)[1] for path, _ in CLASSES}
  assert len(CLASSES) > 80
  assert {'Dense', 'Module', 'FrozenDict', 'PyTreeNode', 'TrainState', 'Scope',
          'FlaxError'} <= names


@pytest.mark.parametrize('path,cls', CLASSES, ids=[p for p, _ in CLASSES])
def test_public_class_pickles_by_reference(path, cls):
  assert '_src' not in cls.__module__, path
  assert pickle.loads(pickle.dumps(cls)) is cls, path
  # the reported module really exports it under its qualified name
  owner = importlib.import_module(cls.__module__)
  obj = owner
  for part in cls.__qualname__.split('.'):
    obj = getattr(obj, part)
  assert obj is cls


@pytest.mark.parametrize('path,fn', FUNCTIONS, ids=[p for p, _ in FUNCTIONS])
def test_public_function_reports_public_module(path, fn):
  assert '_src' not in fn.__module__, path
  assert getattr(importlib.import_module(fn.__module__), fn.__name__) is fn, path
