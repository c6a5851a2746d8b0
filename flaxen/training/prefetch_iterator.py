"""``flaxen.training.prefetch_iterator``: ``PrefetchIterator`` (deprecated).

This file only re-exports; see ``flaxen._src.training.prefetch_iterator``.
"""

from flaxen._src.training.prefetch_iterator import PrefetchIterator as PrefetchIterator
