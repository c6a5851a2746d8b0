"""The public training loop (``flaxen.training.loop``, ``.callbacks``, ``.metric_writers``).

``fit`` trains any Linen module with any Optax transformation on batches from
data iterators, and ``evaluate`` measures a trained state. Nothing here imports
the Module system: a model is anything with ``init`` and ``apply`` (duck typing),
so the loop sits in the ``training`` layer beside ``TrainState`` and
checkpoints.

Files, one concept each:
  * ``batches``: batch sources (callables per epoch, re-iterables, one-shot
    streams), the ``(inputs, targets[, weights])`` batch layout, ``ArrayBatches``;
  * ``objectives``: the named losses and metrics (``'cross_entropy'``, ``'mse'``);
  * ``state``: ``FitState`` (``TrainState`` plus mutable collections, the step
    RNG and the finished-epoch count) and its initialization;
  * ``steps``: the jitted train and eval steps and ``evaluate``;
  * ``callbacks``: the ``Callback`` hooks, ``FitContext`` and early stopping;
  * ``progress``: the ``ProgressBar`` callback (rich bar or plain lines);
  * ``metric_writers``: CSV and TensorBoard metric files;
  * ``plot``: loss and accuracy curves (``PlotHistory``), with matplotlib;
  * ``workdir``: a run's directory: checkpoints (explicit format), history,
    fresh-start and resume rules;
  * ``fit``: the loop itself.
"""
