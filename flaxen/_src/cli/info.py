"""``flaxen info``: a model's ``tabulate`` table and parameter count, or JSON for tools.

The text output is the model's ``tabulate`` table (every module, its inputs,
outputs and variables) followed by one ``parameters: N`` line. ``--json`` prints
one JSON object instead: ``model``, ``input_shape``, ``parameters`` (the count),
``bytes`` and ``variables`` (``collection/path`` -> ``{shape, dtype, size}``).
Shapes come from ``jax.eval_shape``: nothing is computed or allocated.
"""

from __future__ import annotations

import json
from typing import Any, TextIO

import jax
import jax.numpy as jnp
import numpy as np


def _name(path: Any) -> str:
  return '/'.join(str(getattr(k, 'key', getattr(k, 'idx', k))) for k in path)


def variable_table(model: Any, sample: Any) -> dict[str, dict[str, Any]]:
  """``{'collection/module/name': {'shape', 'dtype', 'size'}}`` from shapes alone."""
  shapes = jax.eval_shape(model.init, jax.random.PRNGKey(0), sample)
  table = {}
  for path, leaf in jax.tree_util.tree_leaves_with_path(shapes):
    table[_name(path)] = {'shape': list(leaf.shape), 'dtype': str(leaf.dtype),
                          'size': int(np.prod(leaf.shape, dtype=np.int64))}
  return table


def describe(model: Any, name: str, image_shape: tuple[int, ...]) -> dict[str, Any]:
  """The ``--json`` object (see the module docstring)."""
  sample = jnp.ones((1, *image_shape), jnp.float32)
  variables = variable_table(model, sample)
  params = {k: v for k, v in variables.items() if k.startswith('params/')}
  return {
    'model': name,
    'input_shape': [1, *image_shape],
    'parameters': sum(v['size'] for v in params.values()),
    'bytes': sum(v['size'] * np.dtype(v['dtype']).itemsize for v in params.values()),
    'variables': variables,
  }


def run_info(model: Any, name: str, image_shape: tuple[int, ...], *, depth: int | None,
             as_json: bool, out: TextIO) -> int:
  """Prints the table (or JSON) of ``model`` on ``image_shape`` inputs; returns 0."""
  summary = describe(model, name, image_shape)
  if as_json:
    print(json.dumps(summary, indent=2), file=out)
    return 0
  sample = jnp.ones((1, *image_shape), jnp.float32)
  isatty = getattr(out, 'isatty', None)
  table = model.tabulate(jax.random.PRNGKey(0), sample, depth=depth,
                         console_kwargs={'force_terminal': bool(isatty and isatty()),
                                         'force_jupyter': False, 'width': 120})
  print(table.rstrip('\n'), file=out)
  print(f'parameters: {summary["parameters"]:,} ({summary["bytes"]:,} bytes)', file=out)
  return 0
