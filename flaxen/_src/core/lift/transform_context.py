"""``TransformContext``: a per-context stack of values that a transform's inner function reads.

A lifted transform whose inner function is created once (``jit``) but must see
per-call values while tracing pushes them around the call and reads the top
inside. The stack is an immutable tuple in a context variable, restored with
its token: two threads, or two asyncio tasks, tracing at once never see each
other's values.
"""

from __future__ import annotations

import contextlib
import contextvars
import itertools
from collections.abc import Iterator
from typing import Generic, TypeVar

from flaxen._src.public import set_module

A = TypeVar('A')
_serial = itertools.count()


@set_module('flaxen.core.lift')
class TransformContext(Generic[A]):
  """A stack of values scoped to the current context (thread, asyncio task).

  Example:
    >>> from flaxen.core import lift
    >>> ctx = lift.TransformContext()
    >>> with ctx.push('outer'):
    ...   with ctx.push('inner'):
    ...     inner = ctx.get()
    ...   outer = ctx.get()
    >>> inner, outer, ctx.stack
    ('inner', 'outer', [])
  """

  def __init__(self):
    self._var: contextvars.ContextVar[tuple] = contextvars.ContextVar(
      f'flaxen_transform_context_{next(_serial)}', default=()
    )

  @property
  def stack(self) -> list[A]:
    """The values pushed in this context, oldest first."""
    return list(self._var.get())

  @contextlib.contextmanager
  def push(self, a: A) -> Iterator[None]:
    """Makes ``a`` the top of the stack for the body of the ``with`` block."""
    token = self._var.set(self._var.get() + (a,))
    try:
      yield
    finally:
      self._var.reset(token)

  def get(self) -> A:
    """The top of the stack.

    Raises:
      IndexError: nothing was pushed in this context.
    """
    return self._var.get()[-1]

  def __repr__(self) -> str:
    return f'TransformContext({self.stack!r})'
