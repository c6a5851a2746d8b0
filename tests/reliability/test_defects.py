"""Every defect found by the adversarial run (issue 14 §3), as a regression test.

Each test reproduces the reported case through the public API. (Two defects have
their own files: same-pid writers in test_two_writers.py, the kill loops in
tests/training/checkpoints/test_kill.py.)
"""

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import msgpack
import numpy as np
import pytest

from flaxen import config, serialization
from flaxen.training import checkpoints

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def legacy_format():
  with config.temp_flip_flag('use_orbax_checkpointing', False):
    yield


def test_strict_reports_a_saved_none_where_the_target_holds_an_array(tmp_path):
  checkpoints.save_checkpoint(tmp_path, {'w': None}, 1)
  with pytest.raises(checkpoints.CheckpointMismatchError, match='kind mismatch at /w'):
    checkpoints.restore_checkpoint(tmp_path, {'w': np.zeros((3, 3))}, strict=True)


def test_a_failed_async_save_is_not_lost_at_exit(tmp_path):
  script = (
    'import numpy as np\n'
    'from flaxen import config\n'
    'from flaxen._src.training.checkpoints import atomic\n'
    'from flaxen.training import checkpoints\n'
    "config.update('flax_use_orbax_checkpointing', False)\n"
    "atomic.write_file = lambda *a: (_ for _ in ()).throw(OSError('No space left on device'))\n"
    f"checkpoints.save_checkpoint({str(tmp_path)!r}, {{'w': np.ones(2)}}, 1,\n"
    '                             async_manager=checkpoints.AsyncManager())\n'
  )
  env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS='cpu', PYTHONWARNINGS='ignore')
  proc = subprocess.run([sys.executable, '-c', script], env=env, capture_output=True, text=True,
                        timeout=120)
  assert proc.returncode != 0
  assert 'No space left on device' in proc.stderr


@pytest.mark.parametrize('make', ['plain_dir', 'dangling', 'loop', 'fifo'])
def test_restore_and_latest_agree_on_broken_newest_entries(tmp_path, make):
  checkpoints.save_checkpoint(tmp_path, {'w': np.arange(3)}, 1)
  newest = tmp_path / 'checkpoint_2'
  {'plain_dir': lambda: newest.mkdir(), 'dangling': lambda: newest.symlink_to(tmp_path / 'nope'),
   'loop': lambda: newest.symlink_to(newest), 'fifo': lambda: os.mkfifo(newest)}[make]()
  previous = str(tmp_path / 'checkpoint_1')
  assert checkpoints.latest_checkpoint(tmp_path) == previous
  out = checkpoints.restore_checkpoint(tmp_path, {'w': np.zeros(3, int)})
  assert (out['w'] == np.arange(3)).all()
  with pytest.raises(checkpoints.CheckpointCorruptedError) as e:  # never a raw OS error
    checkpoints.restore_checkpoint(tmp_path, None, step=2)
  assert e.value.fallback == previous


def test_latest_checkpoint_does_not_hang_on_a_fifo(tmp_path):
  os.mkfifo(tmp_path / 'checkpoint_5')
  result = []
  t = threading.Thread(target=lambda: result.append(checkpoints.latest_checkpoint(tmp_path)),
                       daemon=True)
  t.start()
  t.join(30)
  assert not t.is_alive(), 'latest_checkpoint blocked on the FIFO'
  assert result == [None]


@pytest.mark.parametrize('step', ['abc', None, True, float('inf'), float('nan')])
def test_steps_that_cannot_be_found_again_are_refused(tmp_path, step):
  with pytest.raises(ValueError, match='step must be a finite number'):
    checkpoints.save_checkpoint(tmp_path, {'w': 1}, step)
  checkpoints.save_checkpoint(tmp_path, {'w': 1}, 3)
  assert checkpoints.latest_checkpoint(tmp_path) == str(tmp_path / 'checkpoint_3')


def test_int_and_none_map_keys_round_trip():
  tree = {1: 'one', None: 'none', 'k': {2: [None]}}
  assert serialization.msgpack_restore(serialization.msgpack_serialize(tree)) == tree


def test_a_tiny_input_cannot_claim_billions_of_empty_rows():
  payload = msgpack.packb([[2**32 - 1, 0], 'float32', b''])
  data = msgpack.packb(msgpack.ExtType(1, payload))
  assert len(data) < 40
  with pytest.raises(serialization.MsgpackDecodeError):
    serialization.msgpack_restore(data)


def test_deep_trees_that_decode_can_be_encoded_again():
  data = b'\x91' * 1000 + b'\xc0'
  assert serialization.msgpack_serialize(serialization.msgpack_restore(data)) == data


def test_byte_buffers_of_any_kind_are_read():
  data = serialization.msgpack_serialize({'a': np.arange(3)})
  out = serialization.msgpack_restore(np.frombuffer(data, np.uint8))  # refused before
  assert (out['a'] == np.arange(3)).all()
  wide = np.zeros(4, np.int32)  # 16 zero bytes: not a valid document, but no raw BufferError
  with pytest.raises(serialization.MsgpackDecodeError):
    serialization.msgpack_restore(memoryview(wide))


@pytest.mark.slow
def test_map_heavy_input_decodes_at_msgpacks_own_speed():
  doc = {f'r{i}': {'id': i, 'score': i * 0.5, 'tags': {'a': 1, 'b': None}} for i in range(60_000)}
  wide = {str(i): {str(j): j for j in range(200)} for i in range(2_000)}
  for tree in (doc, wide):
    data = serialization.msgpack_serialize(tree)

    def best(fn, n=7):
      times = []
      for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
      return min(times)

    ours = best(lambda d=data: serialization.msgpack_restore(d))
    raw = best(lambda d=data: msgpack.unpackb(d, strict_map_key=False))
    # the safety checks cost nothing per map (it was 4-5x the reference before)
    assert ours < 2.5 * raw, (ours, raw)
