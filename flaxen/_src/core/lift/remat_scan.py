"""``remat_scan``: nested scans whose inner levels are rematerialized (``checkpoint``).

``lengths=(a, b, ...)`` runs the body ``a * b * ...`` times as a scan of length
``a`` over a checkpointed scan of length ``b`` ...; variables get one stacked
axis per level. Memory for the backward pass grows like ``n ** (1 / len(lengths))``.
Inputs and outputs are carries (no ``in_axes``/``out_axes``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flaxen._src.core.lift.checkpoint import checkpoint
from flaxen._src.core.lift.scan import scan
from flaxen._src.public import set_module


@set_module('flaxen.core.lift')
def remat_scan(
  body_fn: Callable[..., Any],
  lengths: tuple[int, ...],
  policy: Callable[..., bool] | None = None,
  variable_broadcast: Any = False,
  variable_carry: Any = False,
  variable_axes: Any = None,
  split_rngs: Any = None,
) -> Callable[..., Any]:
  """Nested scans of ``body_fn(scope, carry) -> carry``, each inner level rematerialized.

  ``prod(lengths)`` iterations in total; variables are stacked with one axis per
  level (e.g. ``lengths=(2, 3)`` gives parameters of shape ``(2, 3, ...)``).

  Args:
    body_fn: the repeated function.
    lengths: iterations per nesting level (outermost first).
    policy: checkpoint policy of the inner levels.
    variable_broadcast: broadcast collections (see ``scan``).
    variable_carry: carried collections (see ``scan``).
    variable_axes: scanned collections (default ``{True: 0}``).
    split_rngs: split streams (default ``{True: True}``).

  Returns:
    ``loop(scope, carry) -> carry``.

  Raises:
    ValueError: ``lengths`` is empty.
  """
  if not lengths:
    raise ValueError('remat_scan needs at least one loop length (`lengths`).')
  variable_axes = {True: 0} if variable_axes is None else variable_axes
  split_rngs = {True: True} if split_rngs is None else split_rngs
  scan_fn = functools.partial(
    scan, variable_broadcast=variable_broadcast, variable_carry=variable_carry,
    variable_axes=variable_axes, split_rngs=split_rngs,
  )
  step: Callable[..., Any]  # a plain body, or a checkpointed one with further loops inside
  if len(lengths) == 1:

    def step(scope, carry):
      return body_fn(scope, carry), ()

  else:

    @functools.partial(checkpoint, policy=policy, prevent_cse=False)
    def step(scope, carry):
      inner = remat_scan(body_fn, lengths[1:], policy, variable_broadcast, variable_carry,
                         variable_axes, split_rngs)
      return inner(scope, carry), ()

  def loop(scope, carry):
    return scan_fn(step, length=lengths[0])(scope, carry)[0]

  return loop
