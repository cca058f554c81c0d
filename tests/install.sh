#!/bin/bash
# install.sh — `cmake --install` and the two ways of consuming what it lays
# out.  Installs the build tree into a temporary prefix, moves the prefix
# (the package must not depend on where it was installed), checks the
# layout, then builds and runs two projects outside the source tree:
#   - a CMake project: find_package(hloc) + hloc_add_model() on the MNIST
#     GraphDef, whose main() runs the model on its input, read with the
#     runtime's rt_npy_read, and compares with TensorFlow's output; a second
#     build compiles nothing, and one after the config changed recompiles;
#   - a pkg-config project: libhloc compiling an HLO module through the C
#     API and running it on its inputs (pkg-config hloc hloc-runtime), then
#     the same saved as a model library and loaded back.
# Last, the installed hloc must take the installed runtime, never the build
# tree's.  Run by CTest from the source root:
#   install.sh CMAKE BUILD_DIR CC    ($HLOC_CFLAGS: flags for libhloc users)
set -euo pipefail
cmake=$1 build=$2 cc=$3
src=$PWD
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "install.sh: $*" >&2; exit 1; }

"$cmake" --install "$build" --prefix "$tmp/staged" >/dev/null
mv "$tmp/staged" "$tmp/prefix"
p=$tmp/prefix
for f in bin/hloc lib/libhloc.so lib/libhloc_runtime.a lib/libhloc_exe.a \
         include/hloc/hloc.h include/hloc/hloc_runtime.h \
         lib/cmake/hloc/hlocConfig.cmake lib/cmake/hloc/hlocConfigVersion.cmake \
         lib/pkgconfig/hloc.pc lib/pkgconfig/hloc-runtime.pc; do
  [ -f "$p/$f" ] || fail "missing $f"
done
for f in libhloc_runtime.a libhloc_exe.a; do
  if [ -f "$build/runtime/dist/aarch64/$f" ]; then
    [ -f "$p/lib/aarch64/$f" ] || fail "missing lib/aarch64/$f"
  fi
done
if grep -rqa -- "$src" "$p/lib/cmake" "$p/lib/pkgconfig"; then
  fail "the package files name the source tree"
fi

# --- CMake: find_package + hloc_add_model ------------------------------------
m=$src/testdata/tf/models/mnist_mlp
mkdir "$tmp/cm"
cp "$m.pb" "$tmp/cm/mnist.pb"
cp "$m.config.pbtxt" "$tmp/cm/mnist.config.pbtxt"
cat >"$tmp/cm/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.20)
project(consumer C)
find_package(hloc 0.1 REQUIRED)
hloc_add_model(mnist_model mnist.pb CONFIG mnist.config.pbtxt NAME mnist)
add_executable(app main.c)
target_link_libraries(app PRIVATE mnist_model)
if(TARGET hloc::runtime_aarch64)
  hloc_add_model(mnist_arm mnist.pb CONFIG mnist.config.pbtxt TARGET_ARCH aarch64 CPU generic)
endif()
CMAKE
cat >"$tmp/cm/main.c" <<'C'
#include <math.h>
#include <stdio.h>

#include "mnist.h"

int main(int argc, char **argv) {
  static mnist_RESULT0_t probs[mnist_RESULT0_ELEMENTS];
  static _Alignas(mnist_SCRATCH_ALIGN) unsigned char scratch[mnist_SCRATCH_BYTES + 1];
  RtArray in, want;
  char err[256];
  if (argc != 3) return 2;
  if (rt_npy_read(argv[1], &in, err, sizeof err) || rt_npy_read(argv[2], &want, err, sizeof err)) {
    fprintf(stderr, "%s\n", err);
    return 1;
  }
  if (in.dtype != mnist_ARG0_DTYPE || in.nbytes != mnist_ARG0_BYTES ||
      want.dtype != mnist_RESULT0_DTYPE || want.nbytes != mnist_RESULT0_BYTES) {
    fprintf(stderr, "the .npy files do not fit %s and %s\n", mnist_ARG0_NAME, mnist_RESULT0_NAME);
    return 1;
  }
  if (mnist_run(in.data, probs, scratch)) return 1;
  const float *w = want.data;
  for (int i = 0; i < mnist_RESULT0_ELEMENTS; i++)
    if (!(fabsf(probs[i] - w[i]) <= 1e-4f + 1e-3f * fabsf(w[i]))) {
      fprintf(stderr, "%s[%d] = %g, want %g\n", mnist_RESULT0_NAME, i, probs[i], w[i]);
      return 1;
    }
  printf("%s: %d values match\n", mnist_RESULT0_NAME, mnist_RESULT0_ELEMENTS);
  rt_array_free(&in);
  rt_array_free(&want);
  return 0;
}
C
"$cmake" -S "$tmp/cm" -B "$tmp/cm/build" -DCMAKE_PREFIX_PATH="$p" \
  -DCMAKE_C_COMPILER="$cc" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "consumer: configure"; }
"$cmake" --build "$tmp/cm/build" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "consumer: build"; }
grep -q "Compiling model" "$tmp/log" || fail "consumer: the model was not compiled"
"$tmp/cm/build/app" "$m.in0.npy" "$m.out0.npy" || fail "consumer: the model's result differs"
if [ -f "$p/lib/aarch64/libhloc_runtime.a" ]; then
  readelf -h "$tmp/cm/build/libmnist_arm.a" | grep -q "Machine:.*AArch64" ||
    fail "consumer: TARGET_ARCH aarch64 did not make an AArch64 library"
fi
"$cmake" --build "$tmp/cm/build" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "consumer: rebuild"; }
if grep -q "Compiling model" "$tmp/log"; then fail "consumer: an up-to-date model was recompiled"; fi
touch -d '+2 seconds' "$tmp/cm/mnist.config.pbtxt"
"$cmake" --build "$tmp/cm/build" >"$tmp/log" 2>&1 || { cat "$tmp/log"; fail "consumer: rebuild"; }
grep -q "Compiling model" "$tmp/log" || fail "consumer: a changed config did not recompile the model"

# --- pkg-config: libhloc through the C API ---------------------------------------
cat >"$tmp/jit.c" <<'C'
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "hloc.h"
#include "hloc_runtime.h"

static int fail(const char *what, hloc_error *err) {
  fprintf(stderr, "%s: %s\n", what, hloc_error_message(err));
  hloc_error_free(err);
  return 1;
}

/* jit MODEL.hlo PREFIX [LIB.so]: runs the module on PREFIX.inN.npy and
 * compares its outputs with PREFIX.outN.npy; with LIB.so, runs it saved
 * there as a model library and loaded back. */
int main(int argc, char **argv) {
  if (argc != 3 && argc != 4) return 2;
  hloc_error *err;
  hloc_compiler *compiler;
  hloc_executable *exe;
  if (hloc_compiler_create(NULL, &compiler, &err)) return fail("hloc_compiler_create", err);
  if (hloc_compile_hlo_file(compiler, argv[1], &exe, &err)) return fail(argv[1], err);
  hloc_compiler_free(compiler);
  if (argc == 4) {
    if (hloc_executable_save(exe, argv[3], &err)) return fail("hloc_executable_save", err);
    hloc_executable_free(exe);
    if (hloc_executable_load(argv[3], &exe, &err)) return fail("hloc_executable_load", err);
  }
  int nin = hloc_executable_num_inputs(exe), nout = hloc_executable_num_outputs(exe);
  RtArray *in = calloc(nin + 1, sizeof *in);
  const void **inputs = calloc(nin + 1, sizeof *inputs);
  void **outputs = calloc(nout + 1, sizeof *outputs);
  char path[4096], msg[512];
  for (int i = 0; i < nin; i++) {
    snprintf(path, sizeof path, "%s.in%d.npy", argv[2], i);
    if (rt_npy_read(path, &in[i], msg, sizeof msg)) return fprintf(stderr, "%s\n", msg), 1;
    if (in[i].nbytes != hloc_executable_input_bytes(exe, i)) return fprintf(stderr, "%s: size\n", path), 1;
    inputs[i] = in[i].data;
  }
  for (int i = 0; i < nout; i++) outputs[i] = malloc(hloc_executable_output_bytes(exe, i));
  if (hloc_execute(exe, inputs, outputs, &err)) return fail("hloc_execute", err);
  for (int i = 0; i < nout; i++) {
    RtArray want;
    snprintf(path, sizeof path, "%s.out%d.npy", argv[2], i);
    if (rt_npy_read(path, &want, msg, sizeof msg)) return fprintf(stderr, "%s\n", msg), 1;
    if (want.dtype != RT_F32 || hloc_executable_output_dtype(exe, i) != HLOC_DTYPE_FLOAT32 ||
        want.nbytes != hloc_executable_output_bytes(exe, i))
      return fprintf(stderr, "%s: not the output's dtype or size\n", path), 1;
    const float *got = outputs[i], *w = want.data;
    for (size_t k = 0; k < want.nbytes / sizeof(float); k++)
      if (!(fabsf(got[k] - w[k]) <= 1e-4f + 1e-3f * fabsf(w[k])))
        return fprintf(stderr, "%s[%zu] = %g, want %g\n", path, k, got[k], w[k]), 1;
    printf("%s: %zu values match\n", hloc_executable_output_name(exe, i), want.nbytes / sizeof(float));
    rt_array_free(&want);
    free(outputs[i]);
  }
  for (int i = 0; i < nin; i++) rt_array_free(&in[i]);
  free(in);
  free(inputs);
  free(outputs);
  hloc_executable_free(exe);
  return 0;
}
C
export PKG_CONFIG_PATH=$p/lib/pkgconfig
flags=$(pkg-config --cflags --libs hloc hloc-runtime) || fail "pkg-config hloc hloc-runtime"
libdir=$(pkg-config --variable=libdir hloc)
# shellcheck disable=SC2086 # the flags are words
"$cc" -std=c17 -Wall -Wextra -Werror ${HLOC_CFLAGS:-} "$tmp/jit.c" -o "$tmp/jit" $flags \
  -Wl,-rpath,"$libdir" || fail "pkg-config consumer: build"
h=$src/testdata/hlo/mlp_softmax
"$tmp/jit" "$h.hlo" "$h" || fail "pkg-config consumer: the module's result differs"
# The installed libhloc saves model libraries with the runtime beside it.
"$tmp/jit" "$h.hlo" "$h" "$tmp/libsaved.so" >/dev/null ||
  fail "pkg-config consumer: a saved and loaded model library differs"

# --- the installed hloc takes the installed runtime ------------------------------
"$p/bin/hloc" compile "$m.pb" --config "$m.config.pbtxt" --name mnist -o "$tmp/mnist" --emit exe
"$tmp/mnist" --input "$m.in0.npy" --output-dir "$tmp/out" >/dev/null
mv "$p/lib/libhloc_exe.a" "$tmp/"
if "$p/bin/hloc" compile "$m.pb" --config "$m.config.pbtxt" --name mnist -o "$tmp/mnist" \
     --emit exe 2>"$tmp/log"; then
  fail "the installed hloc linked without its runtime (the build tree's?)"
fi
grep -q "cannot find the hloc runtime" "$tmp/log" || { cat "$tmp/log"; fail "wrong error"; }
echo "install.sh: ok"
