"""Training utilities built on the tree and serialization layers (``flaxen.training``).

* ``train_state``: ``TrainState``, the params + Optax state pytree of a training loop;
* ``checkpoints``: crash-safe msgpack checkpoints, byte-compatible with the
  reference's files (sub-package: naming, atomic writes, save, restore, async);
* ``lr_schedule``, ``early_stopping``, ``common_utils``, ``dynamic_scale``,
  ``prefetch_iterator``: small helpers of the reference's training examples;
* ``orbax_utils``: save/restore arguments for the optional Orbax backend.

Nothing in this package imports the Module system: a ``TrainState`` only needs a
callable ``apply_fn`` and an Optax ``GradientTransformation``.
"""
