"""``flaxen.training.metric_writers``: metrics into CSV files and TensorBoard event files.

This file only re-exports; see ``flaxen._src.training.loop.metric_writers``.
"""

from flaxen._src.training.loop.metric_writers import CsvWriter as CsvWriter
from flaxen._src.training.loop.metric_writers import MetricWriter as MetricWriter
from flaxen._src.training.loop.metric_writers import MultiWriter as MultiWriter
from flaxen._src.training.loop.metric_writers import TensorBoardWriter as TensorBoardWriter
from flaxen._src.training.loop.metric_writers import create_default_writer as create_default_writer
from flaxen._src.training.loop.metric_writers import read_csv as read_csv
