"""Tests of the hloc Python binding (run: python3 -m unittest discover -s python/tests -t python)."""
