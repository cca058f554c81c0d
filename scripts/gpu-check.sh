#!/bin/bash
# Runs hloc's test data on an NVIDIA GPU through `hloc run --device cuda`
# (docs/backends.md, "The GPU backend") and prints, per group, how many
# cases match their stored outputs:
#   ops     every TensorFlow op case of testdata/tf/ops, against TensorFlow's
#           outputs, with the tolerances of its MANIFEST family (as
#           tests/test_frontend_import.c);
#   hlo     every runnable module of testdata/hlo (and its .opt form),
#           against XLA's outputs with the MANIFEST's tolerances;
#   models  every model of testdata/tf/models, against TensorFlow's, with
#           atol 1e-4 and rtol 1e-3 (as tests/test_driver_compile.c);
#   xla     ../shared/xla-hlo-corpus when present (or $XLA_CORPUS), through
#           scripts/xla_corpus.sh with its compiled runs on the GPU, against
#           the interpreter;
#   exe     every model of testdata/tf/models compiled with --emit exe, run
#           with --profile and a --timeout it never reaches: its results
#           must be the bytes `hloc run --device cuda` writes (the same
#           kernels, which use no atomics; "models" checks those against
#           TensorFlow).
# Builds hloc (Release, in build-gpu/) unless $HLOC names one.  Without a
# GPU (or without a CUDA driver) it says so and exits 0: skipped.  Exits 1
# when a case fails; --results FILE keeps one line per case.
#
#   scripts/gpu-check.sh [-j N] [--cpu sm_XX] [--no-xla] [--results FILE]
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 4)
sm=
xla=1
results=
while [ $# -gt 0 ]; do
  case $1 in
    -j) jobs=$2; shift 2 ;;
    --cpu) sm=$2; shift 2 ;;
    --no-xla) xla=0; shift ;;
    --results) results=$2; shift 2 ;;
    *) echo "usage: $0 [-j N] [--cpu sm_XX] [--no-xla] [--results FILE]" >&2; exit 2 ;;
  esac
done
cd "$root" || exit 1
if [ -z "${HLOC:-}" ]; then
  echo "gpu-check: building hloc in build-gpu/" >&2
  cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build build-gpu -j "$jobs" --target hloc >/dev/null || exit 1
  HLOC=$root/build-gpu/driver/hloc
fi
export HLOC
device="--device cuda${sm:+ --cpu $sm}"
export device sm

# The GPU first: without one there is nothing to check.
ops=testdata/tf/ops
if ! msg=$("$HLOC" run $ops/placeholder.pb --config $ops/placeholder.config.pbtxt \
             --input $ops/placeholder.in0.npy --output-dir "$(mktemp -d)" $device 2>&1); then
  case $msg in
    *"no CUDA driver found"*|*"no GPU"*)
      echo "gpu-check: skipped: $(printf '%s' "$msg" | head -1)"
      exit 0 ;;
  esac
  echo "gpu-check: the first run on the GPU failed: $msg" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export work

# One case: GROUP NAME MODEL-ARGS NIN NOUT DIR ATOL RTOL → "PASS|FAIL GROUP NAME [message]"
# (the cases' lines write MODEL-ARGS with % for its spaces).
one() {
  group=$1 name=$2 model=$3 nin=$4 nout=$5 dir=$6 atol=$7 rtol=$8
  args=
  for ((k = 0; k < nin; k++)); do args="$args --input $dir/$name.in$k.npy"; done
  for ((k = 0; k < nout; k++)); do args="$args --expect $dir/$name.out$k.npy"; done
  # shellcheck disable=SC2086
  if msg=$(timeout 300 "$HLOC" run $model $args --atol "$atol" --rtol "$rtol" \
             --output-dir "$work/$group.$name" $device 2>&1); then
    echo "PASS $group $name"
  else
    echo "FAIL $group $name $(printf '%s' "$msg" | grep -v '^.*: matches' | head -1)"
  fi
  rm -rf "${work:?}/$group.$name"
}
export -f one

# One model's executable: MODEL NIN → "PASS|FAIL exe NAME [message]".
exe() {
  name=$1 nin=$2 dir=testdata/tf/models d=$work/exe.$1
  mkdir -p "$d"
  args=
  for ((k = 0; k < nin; k++)); do args="$args --input $dir/$name.in$k.npy"; done
  # shellcheck disable=SC2086
  if ! msg=$("$HLOC" compile $dir/$name.pb --config $dir/$name.config.pbtxt --target nvptx64 \
               ${sm:+--cpu $sm} --emit exe -o "$d/m" 2>&1) ||
     ! msg=$(timeout 300 "$d/m" $args --output-dir "$d/exe" --profile --timeout 300 2>&1) ||
     ! msg=$(timeout 300 "$HLOC" run $dir/$name.pb --config $dir/$name.config.pbtxt $args \
               --output-dir "$d/run" $device 2>&1); then
    echo "FAIL exe $name $(printf '%s' "$msg" | head -1)"
  elif ! msg=$(diff -r "$d/exe" "$d/run" 2>&1); then
    echo "FAIL exe $name the executable's results differ from hloc run's: ${msg%%$'\n'*}"
  else
    echo "PASS exe $name"
  fi
  rm -rf "$d"
}
export -f exe

{
  # ops: tolerances per family
  grep -v '^#' $ops/MANIFEST | while read -r name family nin nout; do
    case $family in
      exact) tol="0 0" ;;
      elementwise) tol="1e-6 1e-6" ;;
      transcendental) tol="1e-6 1e-5" ;;
      matmul|conv|reduce) tol="1e-5 1e-4" ;;
      *) tol="1e-4 1e-3" ;;
    esac
    echo "ops $name $ops/$name.pb%--config%$ops/$name.config.pbtxt $nin $nout $ops $tol"
  done
  grep -v '^#' testdata/hlo/MANIFEST | while read -r name nin nout atol rtol; do
    [ "$nin" = - ] && continue
    echo "hlo $name testdata/hlo/$name.hlo $nin $nout testdata/hlo $atol $rtol"
    [ -f "testdata/hlo/$name.opt.hlo" ] &&
      echo "hlo $name testdata/hlo/$name.opt.hlo $nin $nout testdata/hlo $atol $rtol"
  done
  m=testdata/tf/models
  grep -v '^#' $m/MANIFEST | while read -r name family nin nout; do
    echo "models $name $m/$name.pb%--config%$m/$name.config.pbtxt $nin $nout $m 1e-4 1e-3"
  done
} | xargs -P "$jobs" -L 1 bash -c 'one "$1" "$2" "${3//%/ }" "$4" "$5" "$6" "$7" "$8"' _ \
    >"$work/results"

grep -v '^#' testdata/tf/models/MANIFEST | while read -r name _ nin _; do
  echo "$name $nin"
done | xargs -P "$jobs" -L 1 bash -c 'exe "$1" "$2"' _ >>"$work/results"

if [ "$xla" = 1 ]; then
  HLOC_RUN_FLAGS=$device "$root/scripts/xla_corpus.sh" -j "$jobs" --results "$work/xla" \
    >"$work/xla.log" 2>&1
  if [ -f "$work/xla" ]; then
    grep '^RUN ' "$work/xla" | while read -r _ name verdict rest; do
      case $verdict in
        same) echo "PASS xla $name" ;;
        *) echo "FAIL xla $name $verdict $rest" ;;
      esac
    done >>"$work/results"
  else
    echo "gpu-check: no XLA corpus: $(head -1 "$work/xla.log")"
  fi
fi

[ -n "$results" ] && sort -k2,2 -k3 "$work/results" >"$results"
status=0
for g in ops hlo models exe xla; do
  pass=$(grep -c "^PASS $g " "$work/results")
  fail=$(grep -c "^FAIL $g " "$work/results")
  [ $((pass + fail)) -eq 0 ] && continue
  printf '%-7s %5d of %5d match\n' "$g" "$pass" $((pass + fail))
  [ "$fail" -gt 0 ] && status=1
done
if [ "$status" = 1 ]; then
  echo "first failures:"
  grep '^FAIL ' "$work/results" | head -20
fi
exit $status
