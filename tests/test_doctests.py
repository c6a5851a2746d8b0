"""Every docstring example under flaxen/ runs and prints what it shows (DESIGN.md §7).

``set_module`` gives public objects their façade's ``__module__``, which makes
doctest's own collection skip them; so examples are collected here per source
file: every function, class and method whose code lives in that file.
"""

import doctest
import importlib
import inspect
import pathlib
import pkgutil

import pytest

import flaxen

ROOT = pathlib.Path(flaxen.__file__).parent
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def _module_names():
  for info in pkgutil.walk_packages([str(ROOT)], prefix="flaxen."):
    yield info.name


def _code_file(fn):
  fn = inspect.unwrap(getattr(fn, "__func__", fn))
  code = getattr(fn, "__code__", None)
  return code.co_filename if code is not None else None


def _defined_in(obj, path: str) -> bool:
  # not inspect.getsourcefile: it follows __module__, which set_module points at a façade
  if inspect.isclass(obj):
    return any(_code_file(v) == path for v in vars(obj).values())
  return _code_file(obj) == path


def _members(cls, path):
  for name, val in vars(cls).items():
    fn = val.fget if isinstance(val, property) else getattr(val, "__func__", val)
    fn = inspect.unwrap(fn) if callable(fn) else fn
    if inspect.isfunction(fn) and _defined_in(fn, path):
      yield name, fn


def _examples(module):
  finder = doctest.DocTestFinder(recurse=False, exclude_empty=True)
  path = inspect.getsourcefile(module)
  candidates = [(module.__name__, module)]
  for name, obj in vars(module).items():
    if (inspect.isclass(obj) or callable(obj)) and _defined_in(obj, path):
      candidates.append((f"{module.__name__}.{name}", obj))
      if inspect.isclass(obj):
        candidates += [(f"{module.__name__}.{name}.{m}", fn) for m, fn in _members(obj, path)]
  tests = {}
  for label, obj in candidates:
    for t in finder.find(obj, label, module=False, globs=dict(vars(module))):
      if t.examples:
        tests[t.name] = t
  return tests.values()


def _collect():
  out = []
  for name in sorted(set(_module_names())):
    if ".examples." in name:
      continue
    module = importlib.import_module(name)
    out += [(name, t) for t in _examples(module)]
  return out


TESTS = _collect()


def test_examples_were_found():
  assert len(TESTS) >= 30


@pytest.mark.parametrize("test", [t for _, t in TESTS], ids=[t.name for _, t in TESTS])
def test_docstring_example(test):
  runner = doctest.DocTestRunner(optionflags=OPTIONS)
  test.globs = dict(test.globs)
  runner.run(test)
  result = runner.summarize(verbose=False)
  assert result.failed == 0, f"{test.name}: {result.failed} of {result.attempted} examples failed"
