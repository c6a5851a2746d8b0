"""Implementation of flaxen. Nothing here is public API: import from `flaxen.*`."""
