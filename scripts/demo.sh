#!/usr/bin/env bash
# `make demo`: runs the bundled MNIST-size MLP (a frozen TensorFlow GraphDef
# with random weights, testdata/tf/models/mnist_mlp) on its bundled inputs,
# prints the class probabilities, and checks them against the outputs
# TensorFlow computed for the same inputs.
set -euo pipefail
hloc=${1:?usage: scripts/demo.sh PATH/TO/hloc}
cd "$(dirname "$0")/.."
model=testdata/tf/models/mnist_mlp
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
echo "== hloc run $model.pb (784 -> 128 relu -> 10 softmax, batch of 2)"
"$hloc" run "$model.pb" --config "$model.config.pbtxt" --interpret \
  --input image="$model.in0.npy" --output-dir "$out" --print \
  --expect "$model.out0.npy" --atol 1e-4 --rtol 1e-3
