"""The ``flaxen`` package itself: what ``import flaxen`` makes reachable, the version, py.typed,
and the reference's module-level names in the modules this package re-exports."""

import importlib
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

import flaxen

ROOT = pathlib.Path(__file__).resolve().parents[1]

# ``import flax`` alone makes exactly these submodules attributes of the package (flax
# 0.12.8, checked with ``dir(flax)``); flaxen adds ``configurations`` and ``version``,
# which the reference deletes from its namespace (so ``import flax.configurations;
# flax.configurations`` fails there).
REFERENCE_SUBMODULES = {
  'core', 'errors', 'ids', 'jax_utils', 'linen', 'serialization', 'struct', 'traceback_util',
  'traverse_util', 'typing',
}
FLAXEN_EXTRA_SUBMODULES = {'configurations', 'version'}


def _fresh(code: str) -> str:
  env = dict(os.environ, JAX_PLATFORMS='cpu', PYTHONPATH=str(ROOT))
  out = subprocess.run([sys.executable, '-c', code], env=env, capture_output=True, text=True,
                       timeout=120, cwd=ROOT, check=True)
  return out.stdout


def test_import_flaxen_alone_reaches_the_reference_attributes():
  code = (
    'import json, types, flaxen\n'
    'mods = sorted(n for n, v in vars(flaxen).items()\n'
    '              if isinstance(v, types.ModuleType) and not n.startswith("_"))\n'
    'print(json.dumps({"mods": mods, "config": type(flaxen.config).__name__,\n'
    '                  "dense": flaxen.linen.Dense.__name__,\n'
    '                  "frozen": flaxen.core.FrozenDict.__name__,\n'
    '                  "flatten": flaxen.traverse_util.flatten_dict.__name__}))\n'
  )
  seen = json.loads(_fresh(code))
  assert set(seen['mods']) == REFERENCE_SUBMODULES | FLAXEN_EXTRA_SUBMODULES
  assert seen['config'] == 'Config'
  assert (seen['dense'], seen['frozen'], seen['flatten']) == ('Dense', 'FrozenDict',
                                                              'flatten_dict')


def test_explicit_imports_stay_explicit():
  # as in the reference, training, cursor and io are not imported by ``import flaxen``
  loaded = _fresh(
    'import sys, flaxen; '
    'print(" ".join(m for m in ("flaxen.training", "flaxen.cursor", "flaxen.io") '
    'if m in sys.modules))'
  )
  assert loaded.strip() == ''


def test_package_attributes_are_the_submodules():
  for name in REFERENCE_SUBMODULES | FLAXEN_EXTRA_SUBMODULES:
    assert getattr(flaxen, name) is importlib.import_module(f'flaxen.{name}')
  assert flaxen.config is flaxen.configurations.config


PYPROJECT = (ROOT / 'pyproject.toml').read_text()  # (tomllib is not in Python 3.10)


def test_version_is_single_and_matches_the_project():
  from flaxen import version

  project = PYPROJECT.split('[project]', 1)[1].split('\n[', 1)[0]
  declared = re.search(r'^version = "([^"]+)"$', project, re.M).group(1)
  assert flaxen.__version__ == version.__version__ == declared


def test_py_typed_is_shipped():
  assert (ROOT / 'flaxen' / 'py.typed').is_file()
  section = PYPROJECT.split('[tool.setuptools.package-data]', 1)[1].split('\n[', 1)[0]
  assert re.search(r'^flaxen = \[.*"py\.typed".*\]$', section, re.M)


# names the reference's modules expose (beyond SPEC.md's inventory) that client code reaches
REFERENCE_NAMES = {
  'flaxen.errors': ['CursorFindError', 'ImmutableVariableError', 'TraceContextError',
                    'TraverseTreeError'],
  'flaxen.traceback_util': ['api_boundary', 'register_exclusion', 'config'],
  'flaxen.struct': ['TNode', 'dataclass_transform', 'serialization'],
  'flaxen.traverse_util': ['PathParts', 'VariableDict', 'struct'],
  'flaxen.typing': ['is_key_like'],
  'flaxen.jax_utils': ['core'],
  'flaxen.core.frozen_dict': ['FrozenKeysView', 'FrozenValuesView'],
  'flaxen.training.dynamic_scale': ['Array', 'struct', 'DynamicScaleResult'],
  'flaxen.training.early_stopping': ['struct'],
  'flaxen.configurations': [
    'Config', 'FlagHolder', 'bool_flag', 'int_flag', 'static_bool_env', 'static_int_env',
    'config', 'flax_always_shard_variable', 'flax_array_ref', 'flax_filter_frames',
    'flax_fix_rng', 'flax_hijax_variable', 'flax_max_repr_depth',
    'flax_preserve_adopted_names', 'flax_profile', 'flax_pytree_module',
    'flax_return_frozendict', 'flax_use_flaxlib', 'flax_use_orbax_checkpointing',
    'nnx_graph_mode', 'nnx_graph_updates',
  ],
  'flaxen.cursor': ['AccessType', 'Cursor', 'CursorFindError', 'FrozenDict', 'Indexable', 'Key',
                    'ParentKey', 'TraverseTreeError', 'cursor', 'is_named_tuple'],
  'flaxen.ids': ['FlaxId', 'UUIDManager', 'uuid'],
  'flaxen.version': ['__version__'],
}


@pytest.mark.parametrize('module', sorted(REFERENCE_NAMES))
def test_reference_module_names(module):
  mod = importlib.import_module(module)
  missing = [n for n in REFERENCE_NAMES[module] if not hasattr(mod, n)]
  assert not missing, f'{module} lacks {missing}'


def test_incidental_reference_names_are_the_same_objects():
  # names the reference's modules happen to expose (imports of jax names, aliases, the config
  # object, ids): client code imports them from there, so they are the same objects here
  import jax
  from jax.experimental.array_serialization import serialization as jax_ser

  from flaxen import config, ids
  from flaxen import typing as ftyping
  from flaxen.core import FrozenDict, meta, scope, spmd
  from flaxen.linen import linear, module, transforms
  from flaxen.training import checkpoints, orbax_utils

  assert spmd.PartitionSpec is jax.sharding.PartitionSpec
  assert spmd.NamedSharding is jax.sharding.NamedSharding
  assert spmd.Format is jax.experimental.layout.Format
  assert linear.eval_shape is jax.eval_shape and linear.ShapedArray is jax.core.ShapedArray
  assert meta.TAxisMetadata.__bound__.__forward_arg__ == 'AxisMetadata'
  assert checkpoints.GlobalAsyncCheckpointManager is jax_ser.GlobalAsyncCheckpointManager
  assert checkpoints.get_tensorstore_spec.func is jax_ser.get_tensorstore_spec.func
  assert checkpoints.PyTree is checkpoints.MultiprocessArrayType is orbax_utils.PyTree
  assert ftyping.FrozenDict is FrozenDict
  assert scope.config is module.config is config
  assert scope.uuid is module.uuid is ids.uuid
  assert module.FlaxId is transforms.FlaxId is ids.FlaxId
  # what they are for
  spec = linear.eval_shape(lambda x: x * 2, linear.ShapedArray((2, 3), jax.numpy.float32))
  assert spec.shape == (2, 3)
  assert isinstance(ids.uuid(), module.FlaxId)
