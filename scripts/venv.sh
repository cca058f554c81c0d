#!/usr/bin/env bash
# Creates (once) the Python virtual environments used only to regenerate
# testdata/ and to run bench/.  `make test` never needs them.
#   scripts/venv.sh jax   -> .venv/jax  (JAX on CPU: HLO corpus)
#   scripts/venv.sh tf    -> .venv/tf   (TensorFlow 2.21 CPU: GraphDefs; with
#                                        ONNX Runtime and tf2onnx for bench/)
# Prints the environment's python on stdout.  The two are kept apart because
# TensorFlow and JAX pin different numpy/ml_dtypes versions.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
flavor=${1:?usage: scripts/venv.sh jax|tf}
case "$flavor" in
  jax) reqs=("jax[cpu]==0.10.2" "numpy") ;;
  tf)  reqs=("tensorflow-cpu==2.21.0" "numpy" "onnxruntime==1.32.0" "tf2onnx==1.17.0") ;;
  *) echo "venv.sh: unknown flavor '$flavor' (jax or tf)" >&2; exit 2 ;;
esac
dir="$top/.venv/$flavor"
if [ ! -x "$dir/bin/python" ]; then
  python3 -m venv "$dir" >&2
  "$dir/bin/pip" install -q --upgrade pip >&2
fi
stamp="$dir/.reqs"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "${reqs[*]}" ]; then
  "$dir/bin/pip" install -q "${reqs[@]}" >&2
  echo "${reqs[*]}" > "$stamp"
fi
echo "$dir/bin/python"
