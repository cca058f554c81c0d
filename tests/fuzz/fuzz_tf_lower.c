/*
 * fuzz_tf_lower.c — libFuzzer harness for the TensorFlow lowering and
 * what follows it short of codegen: a binary GraphDef under a permissive
 * config (every Placeholder fed, every other node fetched), the view
 * (graph.c), tf_import (lower*.c, shape inference, the verifier), then the
 * pass pipeline, buffer assignment and statistics (passes/).
 *
 * A graph may be refused anywhere up to tf_import with an error; what
 * tf_import returns is a verified module, and from there nothing may fail:
 * the passes keep a module verified, so a pipeline error aborts for
 * libFuzzer to save the input (fz_optimize).
 */
#include <stdlib.h>

#include "frontend.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Tensorflow__GraphDef *gd = fz_parse_graphdef(data, size);
  if (!gd) return 0;
  fz_lower_graph(gd, fz_permissive_config(gd));
  return 0;
}
