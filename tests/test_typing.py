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


# Client code imports the aliases from the modules where the reference's own code uses them
# (``from flax.core.scope import Array``, ``from flax.linen.spmd import LogicalRules``): each
# of these paths must hand back the very alias ``flaxen.typing`` defines.
ALIAS_HOMES = {
  'flaxen.core': ['Array'],
  'flaxen.core.scope': [
    'Array', 'Collection', 'FrozenVariableDict', 'MutableCollection', 'MutableVariableDict',
    'PRNGFoldable', 'PRNGKey', 'RNGSequences', 'VariableDict',
  ],
  'flaxen.core.meta': ['LogicalNames'],
  'flaxen.core.spmd': ['LogicalRules', 'Sharding'],
  'flaxen.linen.spmd': [
    'Array', 'ArrayPytree', 'LogicalNames', 'LogicalPartitionSpec',
    'LogicalPartitionSpecPytree', 'LogicalRules',
  ],
}


def test_aliases_are_reachable_where_the_reference_exposes_them():
  import importlib

  for modname, names in ALIAS_HOMES.items():
    mod = importlib.import_module(modname)
    for name in names:
      assert getattr(mod, name) is getattr(ftyping, name), f'{modname}.{name}'


def test_scope_module_exposes_the_rng_filter_alias():
  from flaxen.core import scope
  from flaxen.linen import partitioning

  assert scope.PRNGSequenceFilter is partitioning.PRNGSequenceFilter
