"""The conformance tests read nothing outside the repository.

A fresh clone has no ``../shared`` (where the golden data was made); the data
lives in ``golden_data/`` next to this file. A subprocess runs one golden case
of every group under an audit hook that records every file it opens, and every
file must lie in the repository or in the Python installation running it.
"""

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = r'''
import json, os, sys
opened = set()
def hook(event, args):
  if event == 'open' and args and isinstance(args[0], (str, bytes, os.PathLike)):
    opened.add(os.path.realpath(os.fsdecode(args[0])))
sys.addaudithook(hook)
sys.path.insert(0, os.path.join(sys.argv[1], 'tests', 'conformance'))
import golden
cases = golden.load_cases()
first = {}
for name, case in cases.items():
  first.setdefault(case['group'], name)
failed = {name: golden.run_case(name) for name in first.values()}
print('RESULT ' + json.dumps({'groups': sorted(first), 'failed': {k: v for k, v in failed.items() if v},
                              'opened': sorted(opened)}))
'''


def _installation() -> list[str]:
  places = {sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}
  places |= {p for p in sysconfig.get_paths().values() if p}
  return sorted(os.path.realpath(p) for p in places)


def test_golden_cases_read_only_files_in_the_repository():
  env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS='cpu')
  proc = subprocess.run([sys.executable, '-c', PROBE, str(ROOT)], env=env, cwd=str(ROOT),
                        capture_output=True, text=True, timeout=600)
  assert proc.returncode == 0, proc.stderr[-3000:]
  line = next(x for x in proc.stdout.splitlines() if x.startswith('RESULT '))
  result = json.loads(line[len('RESULT '):])
  assert len(result['groups']) >= 5 and not result['failed'], result['failed']
  golden_data = ROOT / 'tests' / 'conformance' / 'golden_data'
  assert any(Path(p).is_relative_to(golden_data) for p in result['opened'])
  allowed = [str(ROOT)] + _installation() + ['/dev', '/proc', '/sys', '/etc', '/usr']
  outside = [p for p in result['opened']
             if not any(p == a or p.startswith(a.rstrip('/') + '/') for a in allowed)]
  assert not outside, f'files opened outside the repository: {outside}'
