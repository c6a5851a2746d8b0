"""flaxen.linen.pooling: window reductions (pool, avg_pool, max_pool, min_pool)."""

from flaxen._src.linen.pooling import avg_pool as avg_pool
from flaxen._src.linen.pooling import max_pool as max_pool
from flaxen._src.linen.pooling import min_pool as min_pool
from flaxen._src.linen.pooling import pool as pool
