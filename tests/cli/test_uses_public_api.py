"""The CLI and the examples are users of the public API, not of private helpers.

Examples import nothing from ``flaxen._src``. The CLI (which the layering rules
make import implementations from ``flaxen._src``) may take from outside its own
package only objects that a public module exports: the same objects a user gets
from ``flaxen.training``, ``flaxen.linen``, ...
"""

import ast
import importlib
import inspect
import pathlib

import pytest

FLAXEN = pathlib.Path(__file__).resolve().parents[2] / 'flaxen'
CLI = sorted((FLAXEN / '_src' / 'cli').glob('*.py'))
EXAMPLES = sorted((FLAXEN / 'examples').glob('*.py'))


def imported(path):
  """``(module, name)`` of every ``from flaxen... import name``; ``(module, None)`` for imports."""
  found = []
  for node in ast.walk(ast.parse(path.read_text())):
    if isinstance(node, ast.ImportFrom) and (node.module or '').startswith('flaxen'):
      found += [(node.module, alias.name) for alias in node.names]
    elif isinstance(node, ast.Import):
      found += [(a.name, None) for a in node.names if a.name.startswith('flaxen')]
  return found


def public_objects():
  """Every class, function and module reachable from a public façade module."""
  objects = set()
  for path in FLAXEN.rglob('*.py'):
    parts = path.relative_to(FLAXEN.parent).with_suffix('').parts
    if '_src' in parts or 'examples' in parts or parts[-1] == '__main__':
      continue
    name = '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)
    module = importlib.import_module(name)
    objects.update(id(v) for k, v in vars(module).items() if not k.startswith('_'))
  return objects


@pytest.mark.parametrize('path', EXAMPLES, ids=lambda p: p.name)
def test_examples_use_no_private_module(path):
  private = [m for m, _ in imported(path) if m.startswith('flaxen._src')]
  assert not private, f'{path.name} imports {private}; use the public API'


@pytest.mark.parametrize('path', CLI, ids=lambda p: p.name)
def test_cli_takes_only_public_objects_from_outside_its_package(path):
  public = public_objects()
  for module, name in imported(path):
    if module.startswith('flaxen._src.cli'):
      continue
    assert name is not None, f'{path.name}: import {module} (take public objects instead)'
    obj = getattr(importlib.import_module(module), name)
    assert not inspect.ismodule(obj), f'{path.name}: from {module} import {name} (a module)'
    assert id(obj) in public, f'{path.name}: {module}.{name} is not exported publicly'
