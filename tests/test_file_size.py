"""No source file under flaxen/ exceeds 500 lines (DESIGN.md §3)."""

import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1] / "flaxen"
CAP = 500


def test_no_file_over_cap():
  big = {}
  for p in ROOT.rglob("*.py"):
    n = len(p.read_text().splitlines())
    if n > CAP:
      big[str(p.relative_to(ROOT))] = n
  assert not big, f"files over {CAP} lines, split them by concept: {big}"
