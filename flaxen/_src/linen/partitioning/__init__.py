"""The legacy ``flaxen.linen.partitioning`` API (axis names in ``*_axes`` collections).

* ``axes.py`` -- ``param_with_axes``, ``variable_with_axes``, ``PartitionedVariable``,
  ``AxisMetadata`` and ``get_axis_names``;
* ``lifted.py`` -- ``scan_with_axes`` and ``vmap_with_axes`` (the new axis is
  named in the ``*_axes`` metadata);
* ``remat.py`` -- ``remat`` (static arguments counted after the module).

The public module ``flaxen.linen.partitioning`` re-exports these together with
the rule helpers of ``nn.spmd`` under their legacy names (``axis_rules``,
``with_sharding_constraint``, ...).
"""
