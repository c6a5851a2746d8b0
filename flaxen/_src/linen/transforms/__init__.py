"""Linen lifted transforms: thin front ends over ``flaxen.core.lift`` through ``bridge.py``.

``fingerprint.py`` says when two module configurations may share an ``nn.jit`` trace.
"""

from flaxen._src.linen.transforms.autodiff import custom_vjp, grad, jvp, value_and_grad, vjp
from flaxen._src.linen.transforms.checkpoint import checkpoint, remat
from flaxen._src.linen.transforms.control import cond, switch, while_loop
from flaxen._src.linen.transforms.jit import jit
from flaxen._src.linen.transforms.map_variables import add_metadata_axis, map_variables
from flaxen._src.linen.transforms.mapping import remat_scan, scan, vmap
from flaxen._src.linen.transforms.misc import fold_rngs, named_call

__all__ = [
  'add_metadata_axis', 'checkpoint', 'cond', 'custom_vjp', 'fold_rngs', 'grad', 'jit', 'jvp',
  'map_variables', 'named_call', 'remat', 'remat_scan', 'scan', 'switch', 'value_and_grad',
  'vjp', 'vmap', 'while_loop',
]
