"""flaxen.typing: is_key_like (the reference's structural test for pytree path entries)."""

from flaxen import typing as ftyping


class NoOrder:
  __lt__ = None  # present, even if unusable: the test is on attributes only


def test_is_key_like_checks_for_hash_and_lt_attributes():
  # the reference answers True for all of these (every object has both attributes)
  for x in ('kernel', 3, (1, 2), None, [1], object(), NoOrder()):
    assert ftyping.is_key_like(x) is True


def test_is_key_like_is_public():
  assert ftyping.is_key_like.__module__ == 'flaxen.typing'


def test_an_object_without_lt_is_not_key_like():
  class Proxy:
    def __getattribute__(self, name):
      if name == '__lt__':
        raise AttributeError(name)
      return object.__getattribute__(self, name)

  assert ftyping.is_key_like(Proxy()) is False
