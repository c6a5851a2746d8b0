"""Arguments for the optional Orbax checkpointing backend (``flaxen.training.orbax_utils``).

Orbax (``pip install orbax-checkpoint``, the ``flaxen[orbax]`` extra) is imported
lazily: importing this module never needs it; calling a function without it
installed raises ``ImportError`` with the install hint.

* ``save_args_from_target(target)``: one ``orbax.checkpoint.SaveArgs`` per leaf;
* ``restore_args_from_target(target, mesh=None)``: restore arguments that put
  every array back with the sharding of the matching target leaf (or, with a
  ``mesh``, a replicated sharding on that mesh); plain host values are restored
  as numpy arrays.
"""

from __future__ import annotations

from typing import Any

import jax

from flaxen._src.public import set_module

_PUBLIC = 'flaxen.training.orbax_utils'


def import_orbax():
  """Returns the ``orbax.checkpoint`` module or raises a helpful ``ImportError``."""
  try:
    import orbax.checkpoint as ocp
  except ImportError as e:
    raise ImportError(
      'This needs the optional Orbax package: pip install orbax-checkpoint '
      '(or flaxen[orbax]).'
    ) from e
  return ocp


@set_module(_PUBLIC)
def save_args_from_target(target: Any) -> Any:
  """A tree of ``orbax.checkpoint.SaveArgs()`` matching the leaves of ``target``."""
  ocp = import_orbax()
  return jax.tree_util.tree_map(lambda _: ocp.SaveArgs(), target)


def _sharding_of(x: Any, mesh: Any) -> Any:
  if isinstance(x, jax.Array):
    if mesh is not None:
      return jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec())
    return x.sharding
  return None


@set_module(_PUBLIC)
def restore_args_from_target(target: Any, mesh: Any = None) -> Any:
  """Orbax restore arguments following the arrays (and shardings) of ``target``.

  Args:
    target: a pytree like the saved one; its ``jax.Array`` leaves give the
      sharding to restore into.
    mesh: if given, arrays are restored replicated on this mesh instead.

  Returns:
    A tree of ``ArrayRestoreArgs`` / ``RestoreArgs`` for ``restore_args=``.
  """
  ocp = import_orbax()
  shardings = jax.tree_util.tree_map(lambda x: _sharding_of(x, mesh), target)
  return ocp.checkpoint_utils.construct_restore_args(target, shardings)
