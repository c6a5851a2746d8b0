"""flaxen.linen.summary: ``tabulate`` (also ``nn.tabulate`` and ``Module.tabulate``)."""

from flaxen._src.linen.summary import tabulate as tabulate
