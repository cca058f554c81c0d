#!/usr/bin/env bash
# Two-thread scaling of compiled models: compiles each MODEL of the models
# directory to an executable with the build's hloc, then times it with its
# own `--bench RUNS` at --threads 1 and --threads 2, alternating, ROUNDS
# times (the machine is shared: alternation spreads the drift over both).
# Prints each round's medians and their ratio, then per model the median
# of the rounds' ratios (single-thread time / two-thread time).  Outputs
# are the models' stored inputs; the executable checks nothing, so run
# bench/run.py for correctness.
#
#   bench/threads.sh [--build DIR] [--models-dir DIR] [--rounds R] [--runs N] MODEL...
#   bench/threads.sh resnet50 bert_base
set -euo pipefail
cd "$(dirname "$0")/.."
build=build-bench models=build-bench/models rounds=3 runs=10
while [ $# -gt 0 ]; do
  case "$1" in
    --build) build=$2; shift 2 ;;
    --models-dir) models=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    -*) echo "threads.sh: unknown option '$1'" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -gt 0 ] || { echo "usage: bench/threads.sh [--build DIR] [--models-dir DIR] [--rounds R] [--runs N] MODEL..." >&2; exit 2; }
hloc=$build/driver/hloc
[ -x "$hloc" ] || { echo "threads.sh: no $hloc: build it first (bench/README.md)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The executable's median for model $1 at $2 threads, in ms.
median() {
  local out
  out=$("$work/$1" "${inputs[@]}" --output-dir "$work/out" --threads "$2" --bench "$runs") || {
    echo "threads.sh: $1 --threads $2 failed" >&2; exit 1; }
  sed -n 's/.*runs: median \([0-9.]*\) ms.*/\1/p' <<<"$out"
}

for m in "$@"; do
  [ -f "$models/$m.pb" ] || { echo "threads.sh: no $models/$m.pb (bench/gen_models.py makes it)" >&2; exit 1; }
  "$hloc" compile "$models/$m.pb" --config "$models/$m.config.pbtxt" --name "$m" \
    -o "$work/$m" --emit exe >/dev/null
  inputs=()
  for f in "$models/$m".in*.npy; do inputs+=(--input "$f"); done
  ratios=()
  for r in $(seq "$rounds"); do
    t1=$(median "$m" 1)
    t2=$(median "$m" 2)
    ratio=$(awk -v a="$t1" -v b="$t2" 'BEGIN { printf "%.2f", a / b }')
    ratios+=("$ratio")
    echo "$m round $r: 1 thread $t1 ms, 2 threads $t2 ms, ${ratio}x"
  done
  printf '%s\n' "${ratios[@]}" | sort -n |
    awk -v m="$m" '{ v[NR] = $1 } END { printf "%s: median speedup %.2fx over %d rounds\n", m,
      NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, NR }'
done
