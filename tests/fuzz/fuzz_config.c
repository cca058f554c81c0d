/*
 * fuzz_config.c — libFuzzer harness for the meaning of a tfcompile config
 * (tensorflow.tf2xla.Config, text or binary: the content decides, as for
 * `--config`) applied to one fixed graph, testdata's small_cnn: feeds and
 * fetches naming nodes that exist or not, outputs out of range, shapes
 * and types that disagree with the graph, duplicates, variables.  The
 * config goes through tf_graph_new, tf_import and the pass pipeline
 * (fz_optimize), as `hloc compile` would take it up to codegen.
 *
 * FUZZ_CONFIG_GRAPH, the path of the graph, is set by CMake.
 */
#include <stdio.h>
#include <stdlib.h>

#include "frontend.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t *graph;
static size_t graph_len;

static void load_graph(void) {
  if (graph) return;
  FILE *f = fopen(FUZZ_CONFIG_GRAPH, "rb");
  if (!f) {
    perror(FUZZ_CONFIG_GRAPH);
    abort();
  }
  fseek(f, 0, SEEK_END);
  graph_len = (size_t)ftell(f);
  rewind(f);
  graph = malloc(graph_len + 1);
  if (fread(graph, 1, graph_len, f) != graph_len) abort();
  fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  load_graph();
  ProtobufCMessage *cfg;
  HloError *e = tf_proto_parse(&tensorflow__tf2xla__config__descriptor, data, size, "fuzz.config",
                               &cfg);
  if (e) {
    fz_drop(e);
    return 0;
  }
  Tensorflow__GraphDef *gd = fz_parse_graphdef(graph, graph_len);
  if (!gd) abort(); /* the graph is testdata: it parses */
  fz_lower_graph(gd, (Tensorflow__Tf2xla__Config *)cfg);
  return 0;
}
