"""flaxen.core.tracers: trace-level checks used by scopes (re-exports)."""

from flaxen._src.core.tracers import check_trace_level as check_trace_level
from flaxen._src.core.tracers import current_trace as current_trace
