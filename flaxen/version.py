"""flaxen's version (``flaxen.__version__``); keep it equal to pyproject's ``[project] version``."""

__version__ = "0.1.0.dev0"
