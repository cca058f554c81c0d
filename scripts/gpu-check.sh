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
#           TensorFlow); and (exe NAME.timeout) run with --timeout 1e-9,
#           which must stop one of 20 tries before a kernel or copy
#           ("timed out after", exit 1, no output written);
#   api     libhloc's GPU executables (device "cuda"), every model, by
#           scripts/gpu_check_api.c: NAME.run (against TensorFlow's
#           outputs), NAME.profile (hloc_executable_set_profiling: every
#           kernel counted and timed), NAME.cancel (hloc_executable_cancel
#           from another thread stops a running call, naming the kernel,
#           writing nothing; the next call matches), NAME.save (the saved
#           model library loads and matches);
#   so      every model compiled `--target nvptx64 --emit so`, loaded by
#           libhloc (hloc_executable_load): run, profile and cancel as api;
#   python  the Python binding's device="cuda" (scripts/gpu_check_python.py):
#           every model's outputs, profile() and cancel(); skipped, and
#           said so, where python3 has no NumPy.
# Time: nothing of it has run on a GPU yet.  Each case is dominated by
# its compile (a run takes milliseconds): ops 467 compiles, hlo 206, models
# 9, xla the corpus's size (scripts/xla_corpus.sh), each about 0.3-3 s of
# one core.  exe, api, so and python compile the 9 models once or twice
# each: measured with --fake (a Debug hloc, -j 2 on a busy 2-core machine)
# they took 2 min 8 s and 2 min 25 s together, api + so + python 1 min 41 s, so alone
# 37 s.  A GPU machine's 16 cores and a Release build should take the
# whole script to a few minutes; --groups reruns only some.
#
# Builds hloc and libhloc (Release, in build-gpu/) unless $HLOC names hloc
# (libhloc.so beside it).  Without a GPU (or without a CUDA driver) it says
# so and exits 0: skipped.  Exits 1 when a case fails; --results FILE
# keeps one line per case.
#   --groups LIST  only these groups (comma-separated; all by default)
#   --fake         without a GPU: on the stand-in driver tests/fake_cuda.c
#                  (kernels do nothing, 1 ms each), the groups that do not
#                  need the kernels' values (exe, api, so, python; outputs
#                  not compared), to check the script and the host side
#   --dry-run      print the groups, their cases and the commands, run nothing
#   --models LIST  exe, api, so and python on these models only (comma-separated;
#                  the ctest gpu_check_fake runs two)
#
#   scripts/gpu-check.sh [-j N] [--cpu sm_XX] [--no-xla] [--groups LIST] [--fake]
#                        [--dry-run] [--models LIST] [--results FILE]
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
jobs=$(nproc 2>/dev/null || echo 4)
sm=
results=
groups=ops,hlo,models,exe,xla,api,so,python
fake=0
dry=0
usage="usage: $0 [-j N] [--cpu sm_XX] [--no-xla] [--groups LIST] [--fake] [--dry-run] \
[--models LIST] [--results FILE]"
only=
while [ $# -gt 0 ]; do
  case $1 in
    -j) jobs=$2; shift 2 ;;
    --cpu) sm=$2; shift 2 ;;
    --no-xla) nox=1; shift ;;
    --groups) groups=$2; shift 2 ;;
    --fake) fake=1; shift ;;
    --dry-run) dry=1; shift ;;
    --models) only=$2; shift 2 ;;
    --results) results=$2; shift 2 ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
[ "$fake" = 1 ] && [ "$groups" = ops,hlo,models,exe,xla,api,so,python ] && groups=exe,api,so,python
[ "${nox:-0}" = 1 ] && groups=$(echo ",$groups," | sed 's/,xla,/,/; s/^,//; s/,$//')
for g in ${groups//,/ }; do
  case $g in
    ops|hlo|models|exe|xla|api|so|python) ;;
    *) echo "gpu-check: unknown group '$g' (groups: ops hlo models exe xla api so python)" >&2
       exit 2 ;;
  esac
  [ "$fake" = 1 ] && case $g in
    ops|hlo|models|xla) echo "gpu-check: --fake: group $g compares the kernels' values" >&2
                        exit 2 ;;
  esac
done
# Whether group $1 was asked for.
want() { case ",$groups," in *",$1,"*) return 0 ;; esac; return 1; }
cd "$root" || exit 1
# The models of testdata/tf/models (--models's): "NAME NIN NOUT" lines.
models() {
  grep -v '^#' testdata/tf/models/MANIFEST | while read -r n _ i o; do
    case ",${only:-$n}," in *",$n,"*) echo "$n $i $o" ;; esac
  done
}
for n in ${only//,/ }; do
  grep -q "^$n " testdata/tf/models/MANIFEST ||
    { echo "gpu-check: --models: no model '$n' in testdata/tf/models/MANIFEST" >&2; exit 2; }
done

if [ "$dry" = 1 ]; then
  m=testdata/tf/models
  want ops && echo "ops: $(grep -vc '^#' testdata/tf/ops/MANIFEST) cases:" \
    "hloc run testdata/tf/ops/NAME.pb --config … --input … --expect … --device cuda"
  want hlo && echo "hlo: $(grep -v '^#' testdata/hlo/MANIFEST | awk '$2 != "-"' | wc -l)" \
    "modules (and their .opt forms): hloc run testdata/hlo/NAME.hlo --expect … --device cuda"
  want models && echo "models: $(models | wc -l) cases: hloc run $m/NAME.pb … --device cuda"
  want exe && echo "exe: $(models | wc -l) models: hloc compile --target nvptx64 --emit exe;" \
    "./m --profile --timeout 300 (bytes = hloc run's); ./m --timeout 1e-9 (must stop)"
  want xla && echo "xla: scripts/xla_corpus.sh with HLOC_RUN_FLAGS='--device cuda'"
  want api && echo "api: $(models | wc -l) models: gpu_check_api api NAME $m NIN NOUT" \
    "(run, profile, cancel, save)"
  want so && echo "so: $(models | wc -l) models: hloc compile --target nvptx64 --emit so;" \
    "gpu_check_api so NAME $m NIN NOUT libNAME.so (run, profile, cancel)"
  want python && echo "python: $(models | wc -l) models: python3 scripts/gpu_check_python.py" \
    "$m NAME:NIN:NOUT… (run, profile)"
  exit 0
fi

if [ -z "${HLOC:-}" ]; then
  echo "gpu-check: building hloc in build-gpu/" >&2
  cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release >/dev/null &&
    cmake --build build-gpu -j "$jobs" --target hloc libhloc >/dev/null || exit 1
  HLOC=$root/build-gpu/driver/hloc
fi
export HLOC
libdir=$(cd "$(dirname "$HLOC")" && pwd)
device="--device cuda${sm:+ --cpu $sm}"
export device sm

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export work
if [ "$fake" = 1 ]; then
  cc -std=c17 -shared -fPIC -o "$work/libcuda_fake.so" tests/fake_cuda.c || exit 1
  export HLOC_CUDA_DRIVER=$work/libcuda_fake.so GPU_CHECK_FAKE=1 FAKE_CUDA_KERNEL_MS=1
  echo "gpu-check: --fake: on tests/fake_cuda.c, which runs no kernel; values not compared"
fi

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
  # A timeout it reaches: the flag is read before each launch and copy, so
  # a run of a few kernels may end first; one of 20 tries must stop.
  local verdict="no try of 20 timed out" k rc
  for ((k = 0; k < 20; k++)); do
    [ -x "$d/m" ] || { verdict="no executable"; break; }
    # shellcheck disable=SC2086
    msg=$(timeout 60 "$d/m" $args --output-dir "$d/t" --timeout 1e-9 2>&1)
    rc=$?
    if [ $rc = 1 ] && [[ $msg == *"timed out after 1e-09 s at "* ]]; then
      verdict=
      [ -e "$d/t" ] && verdict="it timed out and wrote $d/t"
      break
    elif [ $rc != 0 ]; then
      verdict="exit $rc: $(printf '%s' "$msg" | head -1)"
      break
    fi
    rm -rf "$d/t"
  done
  if [ -z "$verdict" ]; then echo "PASS exe $name.timeout"
  else echo "FAIL exe $name.timeout $verdict"; fi
  rm -rf "$d"
}
export -f exe

{
  # ops: tolerances per family
  want ops && grep -v '^#' $ops/MANIFEST | while read -r name family nin nout; do
    case $family in
      exact) tol="0 0" ;;
      elementwise) tol="1e-6 1e-6" ;;
      transcendental) tol="1e-6 1e-5" ;;
      matmul|conv|reduce) tol="1e-5 1e-4" ;;
      *) tol="1e-4 1e-3" ;;
    esac
    echo "ops $name $ops/$name.pb%--config%$ops/$name.config.pbtxt $nin $nout $ops $tol"
  done
  want hlo && grep -v '^#' testdata/hlo/MANIFEST | while read -r name nin nout atol rtol; do
    [ "$nin" = - ] && continue
    echo "hlo $name testdata/hlo/$name.hlo $nin $nout testdata/hlo $atol $rtol"
    [ -f "testdata/hlo/$name.opt.hlo" ] &&
      echo "hlo $name testdata/hlo/$name.opt.hlo $nin $nout testdata/hlo $atol $rtol"
  done
  m=testdata/tf/models
  want models && grep -v '^#' $m/MANIFEST | while read -r name family nin nout; do
    echo "models $name $m/$name.pb%--config%$m/$name.config.pbtxt $nin $nout $m 1e-4 1e-3"
  done
} | xargs -r -P "$jobs" -L 1 bash -c 'one "$1" "$2" "${3//%/ }" "$4" "$5" "$6" "$7" "$8"' _ \
    >"$work/results"

want exe && models | while read -r name nin _; do
  echo "$name $nin"
done | xargs -r -P "$jobs" -L 1 bash -c 'exe "$1" "$2"' _ >>"$work/results"

# libhloc: its GPU executables, and the model libraries it loads.
if want api || want so; then
  if ! msg=$(cc -std=c17 -O1 -I driver -o "$work/gpu_check_api" scripts/gpu_check_api.c \
               -L "$libdir" -lhloc -Wl,-rpath,"$libdir" -lpthread -lm 2>&1); then
    echo "FAIL api build gpu_check_api.c: $(printf '%s' "$msg" | head -1)" >>"$work/results"
  else
    export GPU_CHECK_WORK=$work
    # One model: GROUP NAME NIN NOUT → its checks' lines (gpu_check_api.c).
    lib() {
      local d=$work/lib.$1.$2 m=testdata/tf/models
      mkdir -p "$d"
      if [ "$1" = so ] &&
         ! msg=$("$HLOC" compile $m/$2.pb --config $m/$2.config.pbtxt --target nvptx64 \
                   ${sm:+--cpu $sm} --name "$2" --emit so -o "$d/$2" 2>&1); then
        echo "FAIL so $2.compile $(printf '%s' "$msg" | head -1)"
      else
        local lib=
        [ "$1" = so ] && lib=$d/lib$2.so
        # shellcheck disable=SC2086
        GPU_CHECK_WORK=$d timeout 300 "$work/gpu_check_api" "$1" "$2" $m "$3" "$4" $lib 2>&1 |
          grep -E '^(PASS|FAIL) ' ||
          echo "FAIL $1 $2 gpu_check_api printed nothing"
      fi
      rm -rf "$d"
    }
    export -f lib
    for g in api so; do
      want $g && models | sed "s/^/$g /"
    done | xargs -r -P "$jobs" -L 1 bash -c 'lib "$1" "$2" "$3" "$4"' _ >>"$work/results"
  fi
fi

# The Python binding, where python3 has NumPy.
if want python; then
  if ! python3 -c 'import numpy' 2>/dev/null; then
    echo "gpu-check: python: skipped: python3 has no NumPy"
  else
    # shellcheck disable=SC2046
    HLOC_LIBRARY=$libdir/libhloc.so python3 scripts/gpu_check_python.py testdata/tf/models \
      $(models | tr ' ' :) 2>&1 | grep -E '^(PASS|FAIL) ' >>"$work/results"
  fi
fi

if want xla; then
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
for g in ops hlo models exe xla api so python; do
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
