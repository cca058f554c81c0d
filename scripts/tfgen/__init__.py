"""Helpers for scripts/gen_tf_testdata.py (TensorFlow-generated test data)."""
