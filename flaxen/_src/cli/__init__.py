"""The ``flaxen`` command line, one user of the public training loop.

Files, one concept each:
  * ``main``: the entry point (``train``, ``info``, ``--version``; also
    ``python -m flaxen``) and its exit statuses;
  * ``options``: the settings table shared by flags and ``--config`` files
    (TOML/YAML), their checks and the one-line error format;
  * ``train``: the training job: data, model, optimizer, ``run.json``, and
    ``flaxen.training.fit`` with the progress bar, metric writers, early
    stopping and plot callbacks;
  * ``info``: the parameter table (``tabulate``) and its JSON form;
  * ``data``: image-classification data sets held in memory (scikit-learn's
    digits, MNIST from local idx/npz files), deterministic splits;
  * ``models``: the built-in classifiers (``cnn``, ``mlp``) and the loading of
    a user's module (``--model package.module:attr``).

The CLI uses only objects that ``flaxen.training`` and ``flaxen.linen`` export
(a test checks it). Nothing here touches the network: data comes from
installed packages or from files the user names.
"""
