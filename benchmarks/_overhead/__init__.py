"""Building blocks of ``benchmarks/overhead.py`` (workloads, pure-JAX twins, timing, reports)."""
