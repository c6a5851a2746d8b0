"""flaxen.ids: FlaxId equality/hash/copy semantics and the thread-safe UUIDManager."""

import copy
import pickle
import threading

from flaxen import ids


def test_manager_counts_from_one():
  m = ids.UUIDManager()
  assert [m(), m(), m()] == [ids.FlaxId(1), ids.FlaxId(2), ids.FlaxId(3)]
  other = ids.UUIDManager()
  assert other() == ids.FlaxId(1)  # managers are independent


def test_flax_id_equality_hash_repr():
  a = ids.FlaxId(3)
  assert a == ids.FlaxId(3) and a == ids.FlaxId(3.0)
  assert not (a != ids.FlaxId(3))
  assert a != 3 and a != ids.FlaxId(4)  # only FlaxIds compare equal
  assert hash(a) == hash(3)
  assert len({a, ids.FlaxId(3), ids.FlaxId(4)}) == 2
  assert repr(a) == 'FlaxId(3)' and repr(ids.FlaxId('x')) == 'FlaxId(x)'
  assert a.id == 3


def test_copies_get_fresh_ids_from_the_global_manager():
  a = ids.FlaxId(-3)  # never drawn by a manager
  c, d = copy.copy(a), copy.deepcopy(a)
  assert c != a and d != a and c != d
  assert isinstance(c.id, int) and d.id > c.id  # drawn in order from ids.uuid
  nxt = ids.uuid()
  assert nxt.id == d.id + 1
  # deepcopy memoizes: one object copied twice in a structure stays shared
  x, y = copy.deepcopy([a, a])
  assert x == y and x != a


def test_pickle_keeps_the_id():
  a = ids.FlaxId(11)
  assert pickle.loads(pickle.dumps(a)) == a


def test_public_identity():
  assert ids.FlaxId.__module__ == 'flaxen.ids'
  assert ids.UUIDManager.__module__ == 'flaxen.ids'
  assert isinstance(ids.uuid, ids.UUIDManager)


def test_ids_are_unique_across_threads():
  m = ids.UUIDManager()
  drawn: list[list[int]] = [[] for _ in range(8)]
  start = threading.Barrier(8)

  def draw(slot):
    start.wait()
    for _ in range(2000):
      slot.append(m().id)

  threads = [threading.Thread(target=draw, args=(slot,)) for slot in drawn]
  for t in threads:
    t.start()
  for t in threads:
    t.join()
  everything = [i for slot in drawn for i in slot]
  assert sorted(everything) == list(range(1, 16001))
  assert all(slot == sorted(slot) for slot in drawn)  # each thread sees increasing ids
