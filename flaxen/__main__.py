"""``python -m flaxen``: the ``flaxen`` command line (``python -m flaxen train --help``)."""

import sys

from flaxen._src.cli.main import main as main

if __name__ == '__main__':
  sys.exit(main(prog='python -m flaxen'))
