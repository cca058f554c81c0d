#!/usr/bin/env bash
# `make demo`: compiles the bundled MNIST-size MLP (a frozen TensorFlow
# GraphDef with random weights, testdata/tf/models/mnist_mlp) into a
# standalone executable, runs it on the bundled inputs, prints each row's
# predicted class with its probability, and checks the probabilities
# against the outputs TensorFlow computed for the same inputs (|got - want|
# <= 1e-4 + 1e-3 |want|).  Needs only hloc, a C compiler, od and awk.
set -euo pipefail
hloc=$(realpath "${1:?usage: scripts/demo.sh PATH/TO/hloc}")
cd "$(dirname "$0")/.."
model=testdata/tf/models/mnist_mlp
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# The float32 elements of a version 1 .npy file, one per line: the data
# follows a header whose length is the little-endian uint16 at byte 8.
npy_floats() {
  local header
  header=$(od -An -tu2 -j8 -N2 "$1" | tr -d ' ')
  od -An -v -tf4 -j$((10 + header)) "$1" | tr -s ' ' '\n' | sed '/^$/d'
}

echo "== hloc compile $model.pb --emit exe   (784 -> 128 relu -> 10 softmax, batch of 2)"
"$hloc" compile "$model.pb" --config "$model.config.pbtxt" --name mnist -o "$out/mnist" \
  --emit exe
echo "== mnist --input image=$model.in0.npy --bench 100"
"$out/mnist" --input image="$model.in0.npy" --output-dir "$out" --bench 100

echo "== predictions"
npy_floats "$out/probs.npy" | awk -v classes=10 '
  { row = int((NR - 1) / classes); c = (NR - 1) % classes
    if (c == 0 || $1 > best[row]) { best[row] = $1; class[row] = c } }
  END { for (r = 0; r <= row; r++) printf "row %d: class %d (probability %.4f)\n", r, class[r], best[r] }'

echo "== compared with TensorFlow ($model.out0.npy)"
paste <(npy_floats "$out/probs.npy") <(npy_floats "$model.out0.npy") | awk '
  { d = $1 - $2; if (d < 0) d = -d; w = $2 < 0 ? -$2 : $2
    if (d > worst) worst = d
    if (!(d <= 1e-4 + 1e-3 * w)) bad++ }
  END { if (bad || NR == 0) { printf "MISMATCH: %d of %d probabilities differ\n", bad, NR; exit 1 }
        printf "match: all %d probabilities agree (max abs difference %.3g)\n", NR, worst }'
