"""The ``flaxen`` command line and the training loop behind the runnable examples.

Files, one concept each:
  * ``data``: image-classification data sets held in memory (scikit-learn's
    digits, MNIST from local idx/npz files), deterministic splits and batching;
  * ``models``: the small classifiers the CLI can train by name (``cnn``, ``mlp``);
  * ``loop``: ``TrainState`` + Optax training with jitted steps, per-epoch
    metrics, checkpoints and resume;
  * ``workdir``: the work directory of a run (checkpoints, ``run.json``,
    ``metrics.jsonl``, ``loss.png``), fresh-start and resume rules;
  * ``progress``: a rich progress bar that falls back to plain lines when the
    output is not a terminal (or ``CI`` is set);
  * ``plot``: the loss-curve PNG, written only when matplotlib is installed;
  * ``main``: the ``flaxen`` entry point (``train`` and ``info`` sub-commands).

Nothing here touches the network: data comes from installed packages or from
files the user names.
"""
