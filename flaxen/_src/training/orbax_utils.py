"""Arguments for Orbax checkpointing (``flaxen.training.orbax_utils``), as the reference builds them.

Orbax (``orbax-checkpoint``) is a regular dependency, imported with this module
so that ``orbax.checkpoint`` is reachable after importing the checkpoint API,
as in the reference. Should it be missing anyway, this module still imports
(``ocp`` is None) and every function that needs it raises ``ImportError`` with
the install hint; the msgpack checkpoint path keeps working.

* ``save_args_from_target(target)``: one ``orbax.checkpoint.SaveArgs`` per leaf;
* ``restore_args_from_target(target, mesh=None)``: when no leaf of ``target``
  carries a ``sharding``, ``RestoreArgs(restore_type=np.ndarray)`` for every
  leaf; otherwise Orbax's ``construct_restore_args`` with the sharding of each
  array leaf (``mesh=``, deprecated as in the reference, re-targets those
  shardings to that mesh and warns);
* ``maybe_construct_transformations(target, transforms)``: ``transforms`` if
  given, else a flat dict that lets every ``None`` leaf of ``target`` fall back
  to the checkpoint's value;
* ``is_multi_device_array(value)``: a ``jax.Array`` that is not fully replicated.
"""

from __future__ import annotations

import warnings
from typing import Any

import jax
import numpy as np
from jax.sharding import Mesh

from flaxen._src.public import set_module

try:
  import orbax.checkpoint as ocp
except ImportError:  # pragma: no cover - orbax-checkpoint is a dependency
  ocp = None

_PUBLIC = 'flaxen.training.orbax_utils'


def import_orbax():
  """Returns the ``orbax.checkpoint`` module or raises a helpful ``ImportError``."""
  if ocp is None:
    raise ImportError(
      'Orbax checkpointing needs the orbax-checkpoint package, a dependency of flaxen: '
      'pip install orbax-checkpoint (or turn flax_use_orbax_checkpointing off to write the '
      'legacy msgpack format).'
    )
  return ocp


@set_module(_PUBLIC)
def is_multi_device_array(value: Any) -> bool:
  """Whether ``value`` is a ``jax.Array`` that is not fully replicated (Orbax stores it sharded)."""
  return isinstance(value, jax.Array) and not value.is_fully_replicated


@set_module(_PUBLIC)
def save_args_from_target(target: Any) -> Any:
  """A tree of ``orbax.checkpoint.SaveArgs()`` matching the leaves of ``target``."""
  orbax = import_orbax()
  return jax.tree_util.tree_map(lambda _: orbax.SaveArgs(), target)


@set_module(_PUBLIC)
def maybe_construct_transformations(target: Any, transforms: Any | None) -> Any:
  """``transforms`` if given; else one fallback ``Transform`` per ``None`` leaf of ``target``.

  The keys are the ``/``-joined paths of Orbax's flat view of ``target``.
  """
  if transforms is not None:
    return transforms
  orbax = import_orbax()
  flat = orbax.utils.to_flat_dict(target, sep='/', keep_empty_nodes=True)
  return {path: orbax.Transform(use_fallback=True) for path, leaf in flat.items() if leaf is None}


def _sharding(x: Any) -> Any:
  return getattr(x, 'sharding', None)


@set_module(_PUBLIC)
def restore_args_from_target(target: Any, mesh: Mesh | None = None) -> Any:
  """Orbax restore arguments that follow the arrays (and shardings) of ``target``.

  Args:
    target: a pytree with the saved structure; array leaves are restored with
      the sharding of the matching leaf.
    mesh: deprecated (as in the reference): re-targets every sharding to this
      mesh, keeping its partition spec. Build the target's arrays on the mesh
      instead.

  Returns:
    A tree of ``RestoreArgs`` / ``ArrayRestoreArgs`` for ``restore_args=``.
  """
  orbax = import_orbax()
  shardings = jax.tree_util.tree_map(_sharding, target)
  if not any(jax.tree_util.tree_leaves(shardings)):
    return jax.tree_util.tree_map(lambda _: orbax.RestoreArgs(restore_type=np.ndarray), target)
  if mesh is not None:
    warnings.warn(
      'restore_args_from_target(): `mesh` arg is deprecated. Simply calling the function with '
      'target pytree should suffice.',
      DeprecationWarning,
      stacklevel=2,
    )
    shardings = jax.tree_util.tree_map(
      lambda s: jax.sharding.NamedSharding(mesh, s.spec), shardings)
  return orbax.checkpoint_utils.construct_restore_args(target, shardings, set_global_shape=False)
