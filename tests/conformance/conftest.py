import pathlib
import sys

# make `import golden` work for the conformance tests (importlib import mode)
sys.path.insert(0, str(pathlib.Path(__file__).parent))
