"""Background saves that readers of the same directory wait for."""

import threading

from flaxen._src.training.checkpoints import pending


def test_wait_for_runs_the_waiters_of_that_directory_once(tmp_path):
  calls = []
  pending.add(str(tmp_path), lambda: calls.append('a'))
  pending.add(str(tmp_path / '.'), lambda: calls.append('b'))  # same directory, other spelling
  pending.add(str(tmp_path / 'other'), lambda: calls.append('other'))
  pending.wait_for(str(tmp_path))
  assert calls == ['a', 'b']
  pending.wait_for(str(tmp_path))
  assert calls == ['a', 'b']
  pending.wait_for(str(tmp_path / 'other'))
  assert calls == ['a', 'b', 'other']


def test_waiting_blocks_until_the_save_is_done(tmp_path):
  done = threading.Event()
  release = threading.Event()

  def background():
    release.wait(10)
    done.set()

  t = threading.Thread(target=background)
  t.start()
  pending.add(str(tmp_path), t.join)
  release.set()
  pending.wait_for(str(tmp_path))
  assert done.is_set()
