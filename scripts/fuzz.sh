#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/fuzz_*.c) with clang-22, every
# library instrumented with AddressSanitizer and UndefinedBehaviorSanitizer
# (UBSan findings abort), and runs each for SECONDS (default $FUZZ_SECONDS,
# else 60), one after another, from a scratch corpus: the hand-made seeds of
# tests/fuzz/corpus/NAME/ plus seeds drawn from testdata/ (seeds() below:
# small files only, so the tree holds no copies of testdata).  Inputs it
# finds stay in the scratch corpus, never in the tree.  With HARNESS names
# only those run.  Exits non-zero on the first crash, leak or timeout.
#
# With FUZZ_RUNS=N each harness instead runs N executions (a campaign, e.g.
# 10000000) at nice 19, resuming from the scratch corpus a previous run
# left in build-fuzz/corpus-NAME rather than starting afresh, and prints
# libFuzzer's final statistics (executions, new inputs, peak memory).
# libFuzzer's timeout is wall-clock, so a campaign at nice 19 on a busy
# machine takes FUZZ_TIMEOUT (seconds, default 10) for its limit per input.
#
#   scripts/fuzz.sh [SECONDS [HARNESS...]]     e.g. scripts/fuzz.sh 600 hlo_eval
#   FUZZ_RUNS=10000000 scripts/fuzz.sh 0 api
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-${FUZZ_SECONDS:-60}}
shift || true
CC=clang-22 CXX=clang++-22 cmake -S . -B build-fuzz -DHLOC_FUZZ=ON \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "${FUZZ_JOBS:-$(nproc)}"

# Copies files of testdata/ no larger than $1 bytes matching find's
# arguments after it into $work, each named after its path (two
# directories may hold files of one name).
copy_small() {
  local max=$1 f
  shift
  while IFS= read -r -d '' f; do
    cp "$f" "$work/$(printf '%s' "${f#testdata/}" | tr / _)"
  done < <(find testdata "$@" -size -"$((max + 1))"c -print0)
}

# Seeds from testdata/ for harness $1 into $work.
seeds() {
  case $1 in
  tf_lower)
    cp tests/fuzz/corpus/graphdef/* "$work"/
    copy_small 8192 -name '*.pb'
    ;;
  hlo_eval)
    cp tests/fuzz/corpus/hlo_parser/* "$work"/
    copy_small 4096 -name '*.hlo'
    ;;
  config) copy_small 1024 -name '*.config.pbtxt' ;;
  npy) # one small file per element type and rank
    local f key seen=" "
    while read -r f; do
      key=$(head -c 80 "$f" | tr -d '0-9 \0' | md5sum | cut -c1-8)
      case $seen in *" $key "*) continue ;; esac
      seen+="$key "
      cp "$f" "$work/"
    done < <(find testdata -name '*.npy' -size -1025c | sort)
    ;;
  bundle) # each checkpoint as the index's length (4 bytes, little-endian),
    # the index, the data file (fuzz_bundle.c)
    local idx n
    for idx in testdata/tf/checkpoints/*/*.index; do
      n=$(stat -c %s "$idx")
      { printf '%b' "$(printf '\\x%02x' $((n & 255)) $((n >> 8 & 255)) \
          $((n >> 16 & 255)) $((n >> 24 & 255)))"
        cat "$idx" "${idx%.index}".data-00000-of-00001
      } > "$work/$(basename "$(dirname "$idx")").ckpt"
    done
    ;;
  savedmodel) # each saved_model.pb as its length (4 bytes, little-endian)
    # and the bytes, with no checkpoint object graph (fuzz_savedmodel.c)
    local pb n
    for pb in testdata/tf/savedmodels/*/saved_model.pb; do
      n=$(stat -c %s "$pb")
      { printf '%b' "$(printf '\\x%02x' $((n & 255)) $((n >> 8 & 255)) \
          $((n >> 16 & 255)) $((n >> 24 & 255)))"
        cat "$pb"
      } > "$work/$(basename "$(dirname "$pb")").sm"
    done
    ;;
  api) # small HLO modules, each behind one of a few call scripts (fuzz_api.c)
    local f i=0
    local scripts=('\x05\x00\x02\x04\x05\x08' '\x09\x10\x02\x04\x27\x05\x15\x17\x05\x08'
      '\x0a\x02\x13\x04\x35\x45\x55\x65\x75\x01\x03' '\x08\x07\x09\x00\x03\x06\x16\x26\x36')
    while read -r f; do
      printf '%b' "${scripts[i % 4]}" | cat - "$f" > "$work/$(basename "$f")"
      i=$((i + 1))
    done < <(find testdata/hlo -name '*.hlo' -size -1025c | sort)
    ;;
  esac
}

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for bin in build-fuzz/tests/fuzz/fuzz_*; do
    [ -x "$bin" ] && names+=("$(basename "${bin#build-fuzz/tests/fuzz/fuzz_}")")
  done
fi
for name in "${names[@]}"; do
  bin=build-fuzz/tests/fuzz/fuzz_$name
  work=build-fuzz/corpus-$name
  if [ -z "${FUZZ_RUNS:-}" ] || [ ! -d "$work" ]; then
    rm -rf "$work"; mkdir -p "$work"
    cp -r tests/fuzz/corpus/"$name"/. "$work"/ 2>/dev/null || true
    seeds "$name"
  fi
  dict=()
  case $name in hlo_*|api) dict=(-dict=tests/fuzz/hlo_parser.dict) ;; esac
  [ -f tests/fuzz/"$name".dict ] && dict=(-dict=tests/fuzz/"$name".dict)
  # SavedModel seeds are tens of KB (a Keras export's graph and functions)
  max_len=8192
  case $name in savedmodel) max_len=131072 ;; esac
  if [ -n "${FUZZ_RUNS:-}" ]; then
    echo "fuzz_$name: $FUZZ_RUNS runs from $(ls "$work" | wc -l) inputs"
    nice -n 19 "$bin" -runs="$FUZZ_RUNS" -print_final_stats=1 -max_len=$max_len \
      -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 "${dict[@]}" -artifact_prefix=build-fuzz/ "$work" 2>&1 |
      grep -E '^(Done|stat::|==[0-9]+==|SUMMARY)' | grep -v 'slowest_unit'
  else
    echo "fuzz_$name: ${seconds}s from $(ls "$work" | wc -l) seeds"
    "$bin" -max_total_time="$seconds" -max_len=$max_len -timeout=10 -rss_limit_mb=2048 \
      "${dict[@]}" -artifact_prefix=build-fuzz/ "$work" 2>&1 | tail -n 5
  fi
done
