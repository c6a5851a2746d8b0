"""Implementation of ``flaxen.linen``: the Module system, lifted-transform bridge, layers, summary."""
