"""The text pieces of tabulate's table: sizes, bytes and YAML cells."""

import jax.numpy as jnp

from flaxen._src.linen import summary_render as sr
from flaxen._src.linen import summary_values as sv


def test_bytes_repr_uses_decimal_units():
  assert [sr.bytes_repr(n) for n in (0, 1000, 1001, 3_300_000, 2_000_000_001)] == [
    "0 B", "1,000 B", "1.0 KB", "3.3 MB", "2.0 GB"]


def test_size_and_bytes_repr():
  assert sr.size_and_bytes_repr(0, 0) == ""
  assert sr.size_and_bytes_repr(1530, 6120) == "1,530 [dim](6.1 KB)[/dim]"


def test_yaml_cells():
  assert sr.as_yaml({}) == "" and sr.as_yaml(None) == "" and sr.as_yaml(()) == ""
  assert sr.as_yaml("1504") == "1504"
  rep = sv.represent_tree((jnp.ones((2,)), {"train": True, "tag": "x"}))
  # block YAML, quotes dropped; dict keys come out sorted (as jax flattens them)
  assert sr.cell_text(rep) == "- [dim]float32[/dim][2]\n- tag: x\n  train: True"
  assert sr.cell_text(1504) == "1504"
