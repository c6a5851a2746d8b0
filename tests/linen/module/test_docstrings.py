"""The docstring examples of the Module system and functional core run and pass."""

import doctest

import pytest

from flaxen.core import meta, scope
from flaxen.linen import module

OBJECTS = [
  (f"{mod.__name__}.{name}", getattr(mod, name))
  for mod in (module, scope, meta)
  for name in sorted(dir(mod))
  if not name.startswith("_") and callable(getattr(mod, name))
]


@pytest.mark.parametrize("name, obj", OBJECTS, ids=[n for n, _ in OBJECTS])
def test_docstring_examples(name, obj):
  finder = doctest.DocTestFinder(recurse=False)
  runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
  for test in finder.find(obj, name, module=False, globs={}):
    result = runner.run(test)
    assert result.failed == 0, f"{name}: {result.failed} failing example(s)"
