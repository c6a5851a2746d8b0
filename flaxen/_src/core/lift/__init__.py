"""Lifted transformations: JAX transforms over functions of ``Scope``s.

``pack`` (``pack.py``) is the one lifting mechanism; each other file here is a
short transform built on it. ``flaxen.core.lift`` re-exports the public names.
"""

from flaxen._src.core.lift.axes import In, Out, broadcast
from flaxen._src.core.lift.checkpoint import checkpoint, remat
from flaxen._src.core.lift.cond import cond, switch
from flaxen._src.core.lift.custom_vjp import custom_vjp
from flaxen._src.core.lift.fold_rngs import fold_rngs
from flaxen._src.core.lift.jit import jit
from flaxen._src.core.lift.jvp import jvp
from flaxen._src.core.lift.map_variables import map_variables, swap_collection
from flaxen._src.core.lift.named_call import named_call
from flaxen._src.core.lift.pack import pack
from flaxen._src.core.lift.remat_scan import remat_scan
from flaxen._src.core.lift.scan import scan
from flaxen._src.core.lift.value_and_grad import value_and_grad
from flaxen._src.core.lift.vjp import vjp
from flaxen._src.core.lift.vmap import vmap
from flaxen._src.core.lift.while_loop import while_loop

__all__ = [
  'In', 'Out', 'broadcast', 'checkpoint', 'cond', 'custom_vjp', 'fold_rngs', 'jit', 'jvp',
  'map_variables', 'named_call', 'pack', 'remat', 'remat_scan', 'scan', 'swap_collection',
  'switch', 'value_and_grad', 'vjp', 'vmap', 'while_loop',
]
