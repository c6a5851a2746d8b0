"""flaxen.core.lift: lifted JAX transformations over functions of ``Scope``s (re-exports)."""

from flaxen._src.core.lift import In as In
from flaxen._src.core.lift import Out as Out
from flaxen._src.core.lift import checkpoint as checkpoint
from flaxen._src.core.lift import cond as cond
from flaxen._src.core.lift import custom_vjp as custom_vjp
from flaxen._src.core.lift import fold_rngs as fold_rngs
from flaxen._src.core.lift import jit as jit
from flaxen._src.core.lift import jvp as jvp
from flaxen._src.core.lift import map_variables as map_variables
from flaxen._src.core.lift import named_call as named_call
from flaxen._src.core.lift import pack as pack
from flaxen._src.core.lift import remat as remat
from flaxen._src.core.lift import remat_scan as remat_scan
from flaxen._src.core.lift import scan as scan
from flaxen._src.core.lift import swap_collection as swap_collection
from flaxen._src.core.lift import switch as switch
from flaxen._src.core.lift import value_and_grad as value_and_grad
from flaxen._src.core.lift import vjp as vjp
from flaxen._src.core.lift import vmap as vmap
from flaxen._src.core.lift import while_loop as while_loop
from flaxen._src.core.lift.axes import broadcast as broadcast
