"""The docstring examples of the public attention API run and pass."""

import doctest

import pytest

from flaxen.linen import attention as facade

OBJECTS = [
  (f"flaxen.linen.attention.{name}", getattr(facade, name))
  for name in sorted(dir(facade))
  if not name.startswith("_") and callable(getattr(facade, name))
]


@pytest.mark.parametrize("name, obj", OBJECTS, ids=[n for n, _ in OBJECTS])
def test_docstring_examples(name, obj):
  finder = doctest.DocTestFinder(recurse=False)
  runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
  for test in finder.find(obj, name, module=False, globs={}):
    result = runner.run(test)
    assert result.failed == 0, f"{name}: {result.failed} failing example(s)"
