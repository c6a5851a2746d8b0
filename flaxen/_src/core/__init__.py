"""The functional core of flaxen: filters, RNG derivation, variables, meta boxes and ``Scope``.

A ``Scope`` owns one layer's slice of the variable dictionary and its RNG
streams; ``init``/``apply``/``bind`` in ``entry.py`` create the root scope. Linen
Modules are a thin object-oriented layer over this package. Lifted transforms
live in ``lift/``.
"""
