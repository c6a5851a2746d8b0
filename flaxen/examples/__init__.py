"""Runnable examples: ``python -m flaxen.examples.<name>``."""
