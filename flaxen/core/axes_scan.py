"""flaxen.core.axes_scan: ``lax.scan`` with per-argument axes and broadcast values (re-exports)."""

from flaxen._src.core.broadcast import broadcast as broadcast
from flaxen._src.core.lift.scan_loop import scan as scan
from flaxen._src.typing import ScanAxis as ScanAxis
