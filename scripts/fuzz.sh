#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz/fuzz_*.c) with clang-22 and runs
# each for SECONDS (default 60) from its seed corpus tests/fuzz/corpus/NAME/.
# Inputs it finds go to a scratch copy of the corpus, never into the tree.
# Exits non-zero on the first crash, leak or timeout.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
CC=clang-22 cmake -S . -B build-fuzz -DHLOC_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j "$(nproc)"
for bin in build-fuzz/tests/fuzz/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin"); name=${name#fuzz_}
  work=build-fuzz/corpus-$name
  rm -rf "$work"; mkdir -p "$work"
  cp -r tests/fuzz/corpus/"$name"/. "$work"/ 2>/dev/null || true
  dict=()
  [ -f tests/fuzz/"$name".dict ] && dict=(-dict=tests/fuzz/"$name".dict)
  echo "fuzz_$name: ${seconds}s"
  "$bin" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    "${dict[@]}" -artifact_prefix=build-fuzz/ "$work" 2>&1 | tail -n 5
done
