"""Functional layers of the core API: plain functions whose first argument is a ``Scope``.

Public path: ``flaxen.core.nn`` (and its submodules ``linear``, ``normalization``,
``attention``, ``stochastic``). A layer is ``layer(scope, *inputs, **config)``; it creates
its variables through ``scope.param`` / ``scope.variable`` and is composed with
``scope.child(layer, name)`` and the lifted transforms of ``flaxen.core.lift``. These
functions are what the reference's functional-core design examples are written
against, so their variable names, shapes, initializers and numerics follow the
reference's ``flax.core.nn`` exactly.

This package sits at the ``core`` layer: it uses JAX's initializers directly
(``flaxen.linen.initializers`` re-exports the same functions), never ``linen``.
"""
