"""flaxen.core.partial_eval: initialization from abstract inputs (re-exports)."""

from flaxen._src.core.partial_eval import lazy_init as lazy_init
