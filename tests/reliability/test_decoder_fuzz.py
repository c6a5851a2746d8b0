"""Structured fuzzing of the decoder under a memory cap (see fuzz_decoder.py for the inputs).

The promise: whatever bytes ``msgpack_restore`` / ``from_bytes`` get, the only
exception is ``MsgpackDecodeError`` (mismatches raise its ``StateMismatchError``
subclass), nothing decoded can exhaust memory when iterated, and everything
decoded encodes again. The fuzzer runs in a subprocess whose address space is
capped at 1 GiB above what the imports need.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def fuzz(seed: int, count: int, *extra: str) -> dict:
  env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS='cpu', PYTHONWARNINGS='ignore')
  proc = subprocess.run(
    [sys.executable, str(HERE / 'fuzz_decoder.py'), str(seed), str(count), '1024', *extra],
    env=env, capture_output=True, text=True, timeout=1800, cwd=str(ROOT))
  assert proc.returncode == 0, proc.stderr[-3000:]
  line = next(x for x in proc.stdout.splitlines() if x.startswith('FUZZ '))
  return json.loads(line[5:])


def test_structured_fuzzing_quick():
  stats = fuzz(11, 2000)
  assert stats['escaped'] == []
  assert stats['decoded'] > 200 and stats['rejected'] > 1000  # both paths are exercised


@pytest.mark.slow
def test_structured_fuzzing_long():
  stats = fuzz(12, 60000)
  print(f"\nfuzzed {stats['inputs']} inputs in {stats['seconds']}s: {stats['decoded']} decoded, "
        f"{stats['rejected']} rejected with MsgpackDecodeError, nothing else escaped")
  assert stats['inputs'] == 60000 and stats['escaped'] == []


@pytest.mark.slow
def test_the_fuzzer_notices_a_missing_safety_check():
  # control: without the limit on empty arrays, some inputs must blow the memory cap
  stats = fuzz(1, 3000, 'weakened')
  assert any('MemoryError' in e for e in stats['escaped']), stats
