"""``flaxen info``: the tabulate table with the parameter count, and its JSON form."""

import io
import json

from flaxen import linen as nn
from flaxen._src.cli import info
from flaxen._src.cli.models import make_model


class WithStats(nn.Module):
  @nn.compact
  def __call__(self, x):
    x = nn.Dense(3)(x.reshape((x.shape[0], -1)))
    return nn.BatchNorm(use_running_average=True)(x)


def test_describe_counts_params_only_and_lists_every_variable():
  summary = info.describe(WithStats(), 'stats', (2, 2, 1))
  assert summary['parameters'] == 4 * 3 + 3 + 3 + 3  # Dense, then BatchNorm scale and bias
  assert summary['bytes'] == 4 * summary['parameters']
  assert summary['variables']['batch_stats/BatchNorm_0/mean'] == {
    'shape': [3], 'dtype': 'float32', 'size': 3}
  assert summary['input_shape'] == [1, 2, 2, 1] and summary['model'] == 'stats'


def test_text_and_json_output():
  out = io.StringIO()
  assert info.run_info(make_model('mlp'), 'mlp', (8, 8, 1), depth=1, as_json=False, out=out) == 0
  text = out.getvalue()
  assert 'Dense_0' in text and text.rstrip().endswith('parameters: 9,610 (38,440 bytes)')
  out = io.StringIO()
  info.run_info(make_model('mlp'), 'mlp', (8, 8, 1), depth=None, as_json=True, out=out)
  assert json.loads(out.getvalue())['parameters'] == 9_610
