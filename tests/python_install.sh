#!/usr/bin/env bash
# `pip install ./python` into a fresh virtual environment, as a user would,
# then, from another directory and without HLOC_LIBRARY, import hloc (which
# must find the libhloc.so the install bundled) and run a frozen GraphDef
# and a SavedModel against TensorFlow's outputs; then save the SavedModel's
# executable as a model library (with the runtime archive the install
# bundled) and load it back.
#
#   tests/python_install.sh LIBHLOC     (from the source root; ctest runs it)
set -euo pipefail
lib=$(realpath "$1")
root=$PWD
work=$(mktemp -d /tmp/hloc-pip-XXXXXX)
trap 'rm -rf "$work"' EXIT
# NumPy comes from Debian's python3-numpy (scripts/install-deps.sh), as for
# the binding's own tests: the venv sees the system's packages.
/usr/bin/python3 -m venv --system-site-packages "$work/venv"
# pip builds in the directory it installs from: a copy keeps the tree clean.
cp -r "$root/python" "$work/src"
HLOC_LIBRARY=$lib "$work/venv/bin/python" -m pip install --quiet --no-build-isolation \
  --no-deps --no-index --disable-pip-version-check "$work/src"
cd "$work"
env -u HLOC_LIBRARY "$work/venv/bin/python" - "$root" "$work/venv" <<'PY'
import os
import sys

import numpy as np

import hloc

root, venv = sys.argv[1], sys.argv[2]
here = os.path.dirname(os.path.realpath(hloc.__file__))
assert here.startswith(os.path.realpath(venv)), f"hloc imported from {here}, not the venv"
assert os.path.isfile(os.path.join(here, "libhloc.so")), "the install bundled no libhloc.so"
assert os.path.isfile(os.path.join(here, "libhloc_runtime.a")), "the install bundled no runtime"

m = os.path.join(root, "testdata/tf/models/mnist_mlp")
exe = hloc.compile_graphdef(m + ".pb", m + ".config.pbtxt")
(probs,) = exe(np.load(m + ".in0.npy"))
np.testing.assert_allclose(probs, np.load(m + ".out0.npy"), atol=1e-4, rtol=1e-3)

s = os.path.join(root, "testdata/tf/savedmodels/keras_mlp")
exe = hloc.compile_model(s, input_shapes={"keras_tensor": (2, 6)}, threads=2)
(y,) = exe(np.load(s + ".in0.npy"))
np.testing.assert_allclose(y, np.load(s + ".out0.npy"), atol=1e-4, rtol=1e-3)
# A model library saved with the bundled runtime, loaded back.
exe.save("libkeras_mlp.so")
(y2,) = hloc.load("libkeras_mlp.so", threads=2)(np.load(s + ".in0.npy"))
np.testing.assert_array_equal(y2, y)
print("pip-installed hloc: mnist_mlp and keras_mlp match TensorFlow; save and load work")
PY
