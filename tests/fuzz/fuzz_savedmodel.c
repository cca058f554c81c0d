/*
 * fuzz_savedmodel.c — libFuzzer harness for SavedModel reading
 * (frontend/savedmodel.c): the saved_model.pb message, meta graph and
 * signature selection, the signature as a config (strict, and as the
 * template `hloc inspect` prints), the graph view, and the walk of the
 * object graphs that finds each captured variable's checkpoint key.
 *
 * An input is a SavedModel and a checkpoint object graph: its first 4
 * bytes (little-endian) are the length of the serialized SavedModel,
 * which follows; the rest is a serialized TrackableObjectGraph (what a
 * checkpoint stores under "_CHECKPOINTABLE_OBJECT_GRAPH").  A length past
 * the end is cut.  scripts/fuzz.sh makes seeds of this form from
 * testdata/tf/savedmodels (with an empty object graph).  Every failure
 * must come with a message; no crash, leak, read outside the input, or
 * undefined behaviour.  Reading the variables' values is fuzz_bundle's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void drop(HloError *e) {
  if (!e) return;
  if (!hlo_error_message(e)[0]) {
    fprintf(stderr, "fuzz_savedmodel: an error without a message\n");
    abort();
  }
  hlo_error_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint32_t n = 0;
  if (size >= 4) memcpy(&n, data, 4);
  size_t rest = size >= 4 ? size - 4 : 0;
  size_t sm_len = n < rest ? n : rest;
  /* Copies, so that ASan sees reads past either part. */
  uint8_t *sm_bytes = malloc(sm_len ? sm_len : 1);
  size_t tg_len = rest - sm_len;
  uint8_t *tg_bytes = malloc(tg_len ? tg_len : 1);
  if (sm_len) memcpy(sm_bytes, data + 4, sm_len);
  if (tg_len) memcpy(tg_bytes, data + 4 + sm_len, tg_len);

  ProtobufCMessage *m = NULL;
  HloError *e = tf_proto_parse_binary(&tensorflow__saved_model__descriptor, sm_bytes, sm_len,
                                      "fuzz/saved_model.pb", &m);
  Tensorflow__SavedModel *sm = (Tensorflow__SavedModel *)m;
  Tensorflow__MetaGraphDef *mg = NULL;
  const Tensorflow__SignatureDef *sig = NULL;
  if (!e) e = tf_saved_model_meta_graph(sm, "fuzz", NULL, &mg);
  if (!e) e = tf_saved_model_signature(mg, "fuzz", NULL, &sig);
  Tensorflow__Tf2xla__Config *tmpl = NULL, *cfg = NULL;
  if (!e) {
    static const TfInputShape shape = {"x", 2, {1, 4}};
    const TfSavedModelOptions o = {.input_shapes = &shape, .ninput_shapes = 1};
    drop(tf_saved_model_config(sig, NULL, true, &tmpl));
    drop(tf_saved_model_config(sig, &o, false, &cfg));
    e = tf_saved_model_config(sig, NULL, false, &cfg);
  }
  if (tmpl) tensorflow__tf2xla__config__free_unpacked(tmpl, NULL);
  TfGraph *g = NULL;
  if (mg && mg->graph_def) {
    /* the view takes the GraphDef and the config, also on error */
    Tensorflow__GraphDef *gd = mg->graph_def;
    mg->graph_def = NULL;
    drop(e);
    e = tf_graph_new(gd, cfg, &g);
    cfg = NULL;
  } else if (!e) {
    /* as the loader (savedmodel.c) refuses a meta graph without a graph */
    e = hlo_error("fuzz: the meta graph has no graph");
  }
  if (!e) {
    const char **keys = NULL;
    e = tf_saved_model_variable_keys(g, mg, tg_len ? tg_bytes : NULL, tg_len, g->arena, &keys);
    /* every key found is a string the arena holds (ASan checks the read) */
    size_t total = 0;
    for (int i = 0; !e && i < g->nnodes; i++) total += keys[i] ? strlen(keys[i]) : 0;
    (void)total;
  }
  drop(e);
  tf_graph_free(g);
  if (cfg) tensorflow__tf2xla__config__free_unpacked(cfg, NULL);
  if (sm) tensorflow__saved_model__free_unpacked(sm, NULL);
  free(sm_bytes);
  free(tg_bytes);
  return 0;
}
